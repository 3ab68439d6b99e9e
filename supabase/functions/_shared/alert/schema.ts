import { z } from "zod";
import { ApiError, ErrorCode, type Issue, summarizeIssues } from "../http/errors.ts";
import { assertStorableJson, formatJsonPath } from "../http/body.ts";
import { type OrderType, orderTypes, timesInForce } from "../config/settings.ts";
import { extractBodyToken, storedPayload } from "./payload.ts";
import { isPlainObject } from "../util/merge_deep.ts";
import { findUnresolvedPlaceholders } from "./placeholders.ts";
import {
  canonicalSymbol,
  isCryptoSymbol,
  normalizeTicker,
  stripExchangePrefix,
  symbolPattern,
  symbolRule,
  tickerPattern,
} from "./symbol.ts";
import {
  type Action,
  actionAliases,
  actions,
  type ExitLeg,
  type NormalizedAlert,
  quantityTypes,
  sentiments,
  type StopLossType,
  stopLossTypes,
} from "./types.ts";

export { extractBodyToken };
export { normalizeTicker, stripExchangePrefix, symbolPattern, tickerPattern };

/** Upper bound for every price and money amount in an alert. */
export const MAX_PRICE = 1e9;
/** Upper bound for `quantity`, whatever its `quantity_type`. */
export const MAX_QUANTITY = 1e9;
/** Upper bound for `trail_percent`. */
export const MAX_TRAIL_PERCENT = 100;
/** Upper bound for `take_profit.percent`; a stop loss must stay below 100 %. */
export const MAX_TAKE_PROFIT_PERCENT = 1000;
/** Upper bound for `delay`, in seconds: an hour (docs/interface.md §4). */
export const MAX_DELAY_SECONDS = 3600;
/** Longest `id` / `alert_id` kept, so the de-duplication key stays short. */
export const MAX_ID_LENGTH = 200;

/** A decimal number in a string: "12.5", " 3 ", "-4", "1e3"; not "abc", "0x10" or "". */
const decimalPattern = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

function requiredMessage(expected: string) {
  return (issue: { input?: unknown }) => issue.input === undefined ? "is required" : expected;
}

/** A number > 0 and ≤ max, sent as a JSON number or as a string holding a decimal number. */
function positiveNumber(
  max: number,
  description: string,
  upper: "lte" | "lt" = "lte",
) {
  const tooBig = upper === "lte" ? `must be at most ${max}` : `must be less than ${max}`;
  const bounded = (schema: z.ZodNumber) =>
    schema.gt(0, { error: "must be greater than 0" })[upper](max, { error: tooBig });
  return z.union([
    bounded(z.number({ error: "must be a finite number" })),
    z.string().regex(decimalPattern, { error: 'must be a number, such as 12.5 or "12.5"' }),
  ], { error: 'must be a number or a string holding one, such as "12.5"' })
    .transform((v) => typeof v === "number" ? v : Number(v.trim()))
    .pipe(bounded(z.number({ error: "must be a finite number" })))
    .meta({ description: `${description} A number, or a string holding one.` });
}

/** A signed number within ±max (zero included), as a JSON number or a numeric string. */
function signedNumber(max: number, description: string) {
  const bounded = (schema: z.ZodNumber) =>
    schema.gte(-max, { error: `must be at least -${max}` }).lte(max, {
      error: `must be at most ${max}`,
    });
  return z.union([
    bounded(z.number({ error: "must be a finite number" })),
    z.string().regex(decimalPattern, { error: 'must be a number, such as -5 or "-5"' }),
  ], { error: 'must be a number or a string holding one, such as "-5"' })
    .transform((v) => typeof v === "number" ? v : Number(v.trim()))
    .pipe(bounded(z.number({ error: "must be a finite number" })))
    .meta({ description: `${description} A number, or a string holding one.` });
}

/** A number from 0 to max, as a JSON number or a numeric string. */
function nonNegativeNumber(max: number, description: string) {
  const bounded = (schema: z.ZodNumber) =>
    schema.gte(0, { error: "must be at least 0" }).lte(max, {
      error: `must be at most ${max}`,
    });
  return z.union([
    bounded(z.number({ error: "must be a finite number" })),
    z.string().regex(decimalPattern, { error: 'must be a number, such as 30 or "30"' }),
  ], { error: 'must be a number or a string holding one, such as "30"' })
    .transform((v) => typeof v === "number" ? v : Number(v.trim()))
    .pipe(bounded(z.number({ error: "must be a finite number" })))
    .meta({ description: `${description} A number, or a string holding one.` });
}

/** One of `values`, trimmed and compared in any case. */
function oneOf<T extends readonly [string, ...string[]]>(values: T, description: string) {
  const expected = `must be one of ${values.join(", ")}`;
  return z.string({ error: requiredMessage(expected) }).trim().toLowerCase()
    .pipe(z.enum(values, { error: expected }))
    .meta({ description: `${description} One of ${values.join(", ")}, in any case.` });
}

/** An action, or another bot's word for one (`close`, `long`, `short`), in any case. */
const actionField = (() => {
  const names = [...actions, ...Object.keys(actionAliases)];
  const expected = `must be one of ${names.join(", ")}`;
  return z.string({ error: requiredMessage(expected) }).trim().toLowerCase()
    .transform((v) => actionAliases[v] ?? v)
    .pipe(z.enum(actions, { error: expected }))
    .meta({
      description: "What to do; {{strategy.order.action}} works. One of " +
        `${actions.join(", ")}, in any case; ${
          Object.entries(actionAliases).map(([a, to]) => `${a} means ${to}`).join(", ")
        }.`,
    });
})();

const text = (description: string) => z.string({ error: "must be a string" }).meta({ description });

const price = (description: string) => positiveNumber(MAX_PRICE, description);

const booleanish = z.union([
  z.boolean(),
  z.string().trim().toLowerCase().pipe(
    z.enum(["true", "false"], { error: "must be true or false" }),
  ),
], { error: "must be true or false" })
  .transform((v) => v === true || v === "true")
  .meta({ description: 'A boolean, or the string "true" or "false".' });

const identifier = z.union([
  z.string().trim(),
  z.number({ error: "must be a finite number" }),
], { error: "must be a string or a number" })
  .transform((v) => typeof v === "number" ? String(v) : v)
  .pipe(
    z.string()
      .min(1, { error: "must not be empty" })
      .max(MAX_ID_LENGTH, { error: `must be at most ${MAX_ID_LENGTH} characters` }),
  )
  .meta({
    description: "Identifies the alert for de-duplication, such as " +
      '"{{strategy.order.id}}-{{timenow}}". A string or a number.',
  });

/** The camelCase aliases of each leg field, as TradersPost sends them. */
const legAliases = {
  limit_price: ["limitPrice"],
  stop_price: ["stopPrice"],
  trail_price: ["trail_amount", "trailAmount", "trailPrice"],
  trail_percent: ["trailPercent"],
} as const;

/** The fields only a stop loss has: its type and a trailing stop's distance. */
const stopLossOnly = ["type", "trail_price", "trail_percent"] as const;

/**
 * A take-profit or stop-loss leg, with its own camelCase aliases. A stop loss also takes
 * `type` (`stop`, `stop_limit`, `trailing_stop`) and, for a trailing stop, exactly one of
 * `trail_price` (aliases `trail_amount`, `trailAmount`, `trailPrice`) and `trail_percent`
 * (`trailPercent`), as TradersPost sends `{"type":"trailing_stop","trailPercent":0.75}`.
 */
function exitLeg(
  percent: ReturnType<typeof positiveNumber>,
  description: string,
  stopLoss = false,
) {
  const legFields = {
    limit_price: price("Limit price of the leg.").nullish(),
    stop_price: price("Stop price of the leg.").nullish(),
    percent: percent.nullish(),
    amount: price("Distance from the entry price in money per share, as TradersPost uses it.")
      .nullish(),
    limitPrice: price("Alias of limit_price.").nullish(),
    stopPrice: price("Alias of stop_price.").nullish(),
  };
  const trailFields = {
    type: oneOf(
      stopLossTypes,
      "The kind of stop loss. A trailing_stop is placed as its own order once the entry has " +
        "filled, for the filled quantity, since Alpaca takes no trailing leg.",
    ).nullish(),
    trail_price: price("Trailing distance in money; for a trailing_stop stop loss.").nullish(),
    trail_percent: positiveNumber(
      MAX_TRAIL_PERCENT,
      "Trailing distance in percent; for a trailing_stop stop loss.",
    ).nullish(),
    ...Object.fromEntries(
      (["trail_price", "trail_percent"] as const).flatMap((field) =>
        legAliases[field].map((alias) => [
          alias,
          (field === "trail_price"
            ? price("Alias of trail_price.")
            : positiveNumber(MAX_TRAIL_PERCENT, "Alias of trail_percent.")).nullish(),
        ])
      ),
    ),
  };
  const shape = stopLoss ? { ...legFields, ...trailFields } : legFields;
  return z.looseObject(shape, { error: 'must be an object such as {"limit_price": 200}' })
    .transform((raw, ctx) => {
      const leg: ExitLeg = {};
      const put = <K extends keyof ExitLeg>(key: K, value: ExitLeg[K] | undefined) => {
        if (value !== undefined) leg[key] = value;
      };
      const fields = stopLoss
        ? (["limit_price", "stop_price", "trail_price", "trail_percent"] as const)
        : (["limit_price", "stop_price"] as const);
      for (const field of fields) {
        put(field, pickAlias(raw, [field, ...legAliases[field]], ctx));
      }
      put("percent", raw.percent ?? undefined);
      put("amount", raw.amount ?? undefined);
      if (stopLoss) put("type", (raw as { type?: StopLossType | null }).type ?? undefined);
      if (Object.keys(leg).length === 0) {
        ctx.issues.push({
          code: "custom",
          input: raw,
          message: stopLoss
            ? "needs at least one of limit_price, stop_price, percent or amount, or type " +
              "trailing_stop with trail_price or trail_percent"
            : "needs at least one of limit_price, stop_price, percent or amount",
        });
      } else if (stopLoss) {
        checkStopLossType(raw, leg, ctx);
      }
      return leg;
    })
    .meta({ description });
}

/** The name a stop-loss field was sent under (itself or an alias). */
function legName(
  raw: Record<string, unknown>,
  field: keyof typeof legAliases | "percent" | "amount",
) {
  const names = [
    field,
    ...(field in legAliases ? legAliases[field as keyof typeof legAliases] : []),
  ];
  return names.find((name) => raw[name] !== undefined && raw[name] !== null) ?? field;
}

/**
 * A stop loss's fields agree with its type: a trailing stop has exactly one trail field and no
 * other price; a stop_limit has a limit_price; a stop has none; only a trailing stop trails.
 */
function checkStopLossType(
  raw: Record<string, unknown>,
  leg: ExitLeg,
  ctx: z.RefinementCtx<unknown>,
): void {
  const issue = (field: Parameters<typeof legName>[1] | "type", message: string) =>
    ctx.issues.push({
      code: "custom",
      input: undefined,
      path: [field === "type" ? "type" : legName(raw, field)],
      message,
    });
  const trails = (["trail_price", "trail_percent"] as const).filter((f) => leg[f] !== undefined);
  if (leg.type === "trailing_stop") {
    if (trails.length === 0) {
      issue(
        "trail_price",
        "is required when type is trailing_stop, unless trail_percent is sent",
      );
    } else if (trails.length === 2) {
      issue("trail_percent", "cannot be sent together with trail_price; send exactly one of them");
    }
    for (const field of ["limit_price", "stop_price", "percent", "amount"] as const) {
      if (leg[field] !== undefined) {
        issue(
          field,
          "is not used by a trailing_stop stop loss, which follows the price by its " +
            "trail_price or trail_percent; send one of those instead",
        );
      }
    }
    return;
  }
  for (const field of trails) {
    issue(field, 'is used only when type is trailing_stop; add "type": "trailing_stop"');
  }
  if (leg.type === "stop_limit" && leg.limit_price === undefined) {
    issue("limit_price", "is required when type is stop_limit");
  }
  if (leg.type === "stop" && leg.limit_price !== undefined) {
    issue("limit_price", "is not used by a stop stop loss; send type stop_limit to use it");
  }
}

/**
 * The canonical snake_case fields. Each `nullish` field treats `null` like a missing field, so a
 * template that sends `"stop_loss": null` simply has no stop loss.
 */
const canonicalFields = {
  ticker: z.string({ error: requiredMessage('must be a string such as "AAPL" or "NASDAQ:AAPL"') })
    .overwrite(stripExchangePrefix)
    .pipe(
      z.string().regex(symbolPattern, {
        error: `must be ${symbolRule}, after any prefix such as "NASDAQ:"`,
      }).overwrite((symbol) => canonicalSymbol(symbol.toUpperCase()).symbol),
    )
    .meta({
      description: 'The symbol, such as "AAPL" or "NASDAQ:AAPL"; the prefix is removed. Crypto ' +
        'pairs as TradingView names them ("BTCUSD", "BINANCE:BTCUSDT") become Alpaca\'s pairs ' +
        '("BTC/USD", "BTC/USDT").',
    }),
  action: actionField,
  sentiment: oneOf(
    sentiments,
    "The position wanted after the alert; {{strategy.market_position}} works.",
  ).nullish(),
  quantity: positiveNumber(MAX_QUANTITY, "How much, in the unit of quantity_type.").nullish(),
  quantity_type: oneOf(quantityTypes, "The unit of quantity.").nullish(),
  position_size: signedNumber(
    MAX_QUANTITY,
    "The signed position the strategy holds after this order ({{strategy.position_size}}); " +
      "when the webhook trusts the signal's size, the engine trades toward it.",
  ).nullish(),
  order_type: oneOf(orderTypes, "The order type; the config's default applies when absent.")
    .nullish(),
  limit_price: price("Required for limit and stop_limit orders.").nullish(),
  stop_price: price("Required for stop and stop_limit orders.").nullish(),
  trail_price: price("Trailing distance in money; for trailing_stop orders.").nullish(),
  trail_percent: positiveNumber(
    MAX_TRAIL_PERCENT,
    "Trailing distance in percent; for trailing_stop orders.",
  ).nullish(),
  price: price("The signal price, such as {{close}}; used for sizing and slippage.").nullish(),
  time_in_force: oneOf(timesInForce, "How long the order stays open.").nullish(),
  extended_hours: booleanish.nullish(),
  take_profit: exitLeg(
    positiveNumber(MAX_TAKE_PROFIT_PERCENT, "Gain in percent of the entry price."),
    "Take-profit leg; makes a bracket order.",
  ).nullish(),
  stop_loss: exitLeg(
    positiveNumber(100, "Loss in percent of the entry price.", "lt"),
    "Stop-loss leg; makes a bracket order. A trailing_stop stop loss is placed as its own " +
      "order once the entry has filled.",
    true,
  ).nullish(),
  delay: nonNegativeNumber(
    MAX_DELAY_SECONDS,
    `Seconds (0 to ${MAX_DELAY_SECONDS}) to wait after receipt before acting; the signal is ` +
      "waiting until then.",
  ).nullish(),
  id: identifier.nullish(),
  time: text("The bar time, such as {{time}}.").nullish(),
  timenow: text("The firing time, such as {{timenow}}.").nullish(),
  comment: text("Free text, stored with the signal.").nullish(),
  strategy: z.unknown().optional().meta({ description: "Any JSON, stored with the signal." }),
  extras: z.unknown().optional().meta({ description: "Any JSON, stored with the signal." }),
};

type CanonicalField = keyof typeof canonicalFields;

/** The normalised alert's name for a field whose name as sent says less (`delay` is in seconds). */
const normalizedName: Partial<Record<CanonicalField, keyof NormalizedAlert>> = {
  delay: "delay_seconds",
};

/**
 * Each alias and the canonical field it stands for: TradersPost's camelCase names, and the names
 * other bots use (docs/interface.md §4). The one alias table: parsing, warnings and the OpenAPI
 * document all read it.
 */
const aliasOf = {
  symbol: "ticker",
  side: "action",
  qty: "quantity",
  size: "quantity",
  contracts: "quantity",
  order_contracts: "quantity",
  quantityType: "quantity_type",
  orderType: "order_type",
  limitPrice: "limit_price",
  stopPrice: "stop_price",
  trailPrice: "trail_price",
  trail_amount: "trail_price",
  trailAmount: "trail_price",
  trailPercent: "trail_percent",
  signalPrice: "price",
  timeInForce: "time_in_force",
  extendedHours: "extended_hours",
  takeProfit: "take_profit",
  stopLoss: "stop_loss",
  delay_seconds: "delay",
  alert_id: "id",
  alertId: "id",
} as const satisfies Record<string, CanonicalField>;

/**
 * The nested form of the widely copied TradingView → Alpaca tutorial: side, size, price and the
 * position after the order (`{{strategy.market_position}}`, a sentiment) under `strategy`, read
 * when the top-level field is absent.
 */
const nestedStrategyFields = {
  order_action: "action",
  order_contracts: "quantity",
  order_price: "price",
  position_size: "position_size",
  market_position: "sentiment",
} as const satisfies Record<string, CanonicalField>;

function aliasFields() {
  const shape: Record<string, z.ZodType> = {};
  for (const [alias, field] of Object.entries(aliasOf)) {
    shape[alias] = canonicalFields[field].optional().meta({ description: `Alias of ${field}.` });
  }
  return shape as {
    [A in keyof typeof aliasOf]: z.ZodOptional<(typeof canonicalFields)[(typeof aliasOf)[A]]>;
  };
}

const tokenShape = {
  token: text("The webhook's token, when it cannot go in the query or a header. Never stored.")
    .optional(),
  passphrase: text("Accepted in place of token. Never stored.").optional(),
};

/** `ticker` and `action` may arrive under an alias, so presence is checked after resolving. */
const alertShape = {
  ...canonicalFields,
  ticker: canonicalFields.ticker.optional(),
  action: canonicalFields.action.optional(),
  ...aliasFields(),
  ...tokenShape,
};

/**
 * Each optional canonical field with the names it may be sent under (itself first, then its
 * aliases), worked out once rather than for every alert.
 */
const namesOfField: [CanonicalField, string[]][] =
  (Object.keys(canonicalFields) as CanonicalField[])
    .map((field) => [
      field,
      [field, ...Object.entries(aliasOf).filter(([, to]) => to === field).map(([alias]) => alias)],
    ]);

type AlertInputShape = typeof alertShape;

/**
 * The alert body of `receive-webhook` (docs/interface.md §4), with its normalisation: validating
 * gives a {@link NormalizedAlert}. Unknown fields pass through validation; `parseAlert` reports
 * them. This is the only definition: the OpenAPI document is generated from it.
 */
export const alertSchema: z.ZodType<NormalizedAlert, z.input<z.ZodObject<AlertInputShape>>> = z
  .looseObject(alertShape, { error: "the body must be a JSON object" })
  // Presence is checked whatever else is wrong, so a missing ticker is reported beside a bad
  // quantity instead of after it is fixed.
  .refine((raw) => sentUnderAnyName(raw, "ticker"), {
    path: ["ticker"],
    message: "is required",
    when: () => true,
  })
  .refine((raw) => sentUnderAnyName(raw, "action"), {
    path: ["action"],
    message: "is required",
    when: () => true,
  })
  .transform((raw, ctx): NormalizedAlert => {
    const alert = {} as NormalizedAlert;
    const put = <K extends keyof NormalizedAlert>(
      key: K,
      value: NormalizedAlert[K] | undefined,
    ) => {
      if (value !== undefined && value !== null) alert[key] = value;
    };
    for (const [field, names] of namesOfField) {
      const key = normalizedName[field] ?? (field as keyof NormalizedAlert);
      put(key, pickAlias(raw, names, ctx) as NormalizedAlert[typeof key]);
    }
    liftNestedStrategy(raw.strategy, alert, ctx);
    checkOrderType(alert, ctx);
    return alert;
  })
  .meta({
    title: "TradingView alert",
    description: "The alert message. snake_case names, with TradersPost's camelCase aliases.",
  });

/** Every top-level field name the schema knows, aliases and token fields included. */
export const knownAlertFields: ReadonlySet<string> = new Set(Object.keys(alertShape));

const knownTakeProfitFields: ReadonlySet<string> = new Set([
  "limit_price",
  "stop_price",
  "percent",
  "amount",
  "limitPrice",
  "stopPrice",
]);
const knownStopLossFields: ReadonlySet<string> = new Set([
  ...knownTakeProfitFields,
  ...stopLossOnly,
  ...Object.values(legAliases).flat(),
]);

/**
 * The JSON Schema (draft 2020-12) of the bodies `receive-webhook` accepts, generated from
 * {@link alertSchema}. It describes the input: numbers may be numeric strings, enums any case.
 */
export function alertJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(alertSchema, { io: "input", target: "draft-2020-12" }) as Record<
    string,
    unknown
  >;
  // `ticker` and `action` are required under one of their names (or, for the tutorial's nested
  // form, under `strategy`), which zod's object shape cannot say by itself.
  schema.allOf = (["ticker", "action"] as const).map((field) => ({
    anyOf: [
      ...namesOfField.find(([f]) => f === field)![1].map((name) => ({
        required: [name],
        properties: { [name]: true },
      })),
      ...Object.entries(nestedStrategyFields).filter(([, to]) => to === field).map((
        [nested],
      ) => ({
        required: ["strategy"],
        properties: {
          strategy: { type: "object", required: [nested], properties: { [nested]: true } },
        },
      })),
    ],
  }));
  return schema;
}

/** What `parseAlert` returns. */
export interface ParsedAlert {
  /** The validated, normalised alert. */
  alert: NormalizedAlert;
  /** The body as it is stored: without `token`, `passphrase` or `__proto__` keys. */
  payload: Record<string, unknown>;
  /** One line per unknown or dropped field, each naming it. */
  warnings: string[];
}

/**
 * Validates and normalises a parsed alert body.
 *
 * Throws 400 `unresolved_placeholder` when any value still holds a TradingView placeholder such
 * as "{{close}}" (checked first, since it explains every other error it would cause), else 400
 * `invalid_payload` with one issue per problem; 400 `invalid_json` when the value is not
 * storable JSON (see `assertStorableJson`), which `parseJsonBody` output always is.
 *
 * @example
 * const { alert, payload, warnings } = parseAlert(parseJsonBody(await readBodyCapped(req)));
 */
export function parseAlert(body: unknown): ParsedAlert {
  assertStorableJson(body);
  if (!isPlainObject(body)) {
    const message = "the body must be a JSON object";
    throw new ApiError(400, ErrorCode.invalidPayload, message, [{ path: "", message }]);
  }
  // Credentials are out before anything looks at the body: a placeholder in another service's
  // secret is no reason to refuse the alert.
  const { payload, warnings } = storedPayload(body);
  const placeholders = findUnresolvedPlaceholders(payload);
  if (placeholders.length > 0) {
    throw new ApiError(
      400,
      ErrorCode.unresolvedPlaceholder,
      summarizeIssues(placeholders) +
        "; TradingView fills it only where the alert type supports it",
      placeholders,
    );
  }
  const options = optionIssues(payload);
  if (options.length > 0) {
    throw new ApiError(
      400,
      ErrorCode.unsupportedAsset,
      `${summarizeIssues(options)}; options are not supported, and an option alert never ` +
        "becomes an order for the underlying",
      options,
    );
  }
  const result = alertSchema.safeParse(payload);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({
      path: formatJsonPath(i.path),
      message: i.message,
    }));
    throw new ApiError(400, ErrorCode.invalidPayload, summarizeIssues(issues), issues);
  }
  return {
    alert: result.data,
    payload,
    warnings: [
      ...unknownFieldWarnings(payload),
      ...warnings,
      ...symbolWarnings(payload),
      ...unusedFieldWarnings(payload, result.data),
    ],
  };
}

/** What the ticker named but is traded differently (a perpetual as its spot pair). */
function symbolWarnings(payload: Record<string, unknown>): string[] {
  const raw = [payload.ticker, payload.symbol].find((v) => typeof v === "string");
  if (typeof raw !== "string") return [];
  const warning = canonicalSymbol(stripExchangePrefix(raw).toUpperCase()).warning;
  return warning ? [warning] : [];
}

/** The fields that shape an opening order; a close is a market order whatever they say. */
const orderFields = [
  "order_type",
  "limit_price",
  "stop_price",
  "trail_price",
  "trail_percent",
  "time_in_force",
  "extended_hours",
  "take_profit",
  "stop_loss",
] as const satisfies readonly CanonicalField[];

/** The prices each order type uses (docs/interface.md §4); the others it ignores. */
const pricesOfType: Record<OrderType, readonly CanonicalField[]> = {
  market: [],
  limit: ["limit_price"],
  stop: ["stop_price"],
  stop_limit: ["limit_price", "stop_price"],
  trailing_stop: ["trail_price", "trail_percent"],
};
const priceFields = ["limit_price", "stop_price", "trail_price", "trail_percent"] as const;
/** What a cancel, which places no order, does not use. */
const cancelIgnores = [
  ...orderFields,
  "quantity",
  "quantity_type",
  "position_size",
  "sentiment",
] as const satisfies readonly CanonicalField[];

/**
 * One warning per known field the engine will not act on, named as it was sent, so that no
 * alert it reads differently from its plain meaning is accepted silently: an exit's order fields
 * (a close is a market order: day, or gtc for crypto), a cancel's sizing and order fields, a
 * price the explicit order type does not use, and a quantity_type without a quantity.
 */
function unusedFieldWarnings(payload: Record<string, unknown>, alert: NormalizedAlert): string[] {
  const warnings: string[] = [];
  const ignore = (field: CanonicalField, why: string) => {
    const name = sentName(payload, field);
    if (name) warnings.push(`field '${name}' was ignored: ${why}`);
  };
  if (alert.action === "cancel") {
    for (const field of cancelIgnores) {
      ignore(field, "cancel only cancels the symbol's open orders");
    }
    return warnings;
  }
  // An exit toward a non-zero position_size may open the other side, with the alert's shape.
  if (alert.action === "exit" && !alert.position_size) {
    const closeTif = isCryptoSymbol(alert.ticker) ? "gtc" : "day";
    for (const field of orderFields) {
      if (field === "order_type" && alert.order_type === "market") continue;
      if (field === "time_in_force" && alert.time_in_force === closeTif) continue;
      if (field === "extended_hours" && alert.extended_hours !== true) continue;
      ignore(field, `an exit closes the position with a market ${closeTif} order`);
    }
  } else if (alert.order_type !== undefined) {
    const uses: readonly CanonicalField[] = pricesOfType[alert.order_type];
    const sizingHint = alert.order_type === "market" || alert.order_type === "trailing_stop";
    for (const field of priceFields) {
      if (uses.includes(field)) continue;
      const hint = field === "limit_price" && sizingHint
        ? " (it only stands in for price when sizing)"
        : "";
      ignore(field, `a ${alert.order_type} order uses no ${field}${hint}`);
    }
  }
  if (alert.quantity_type !== undefined && alert.quantity === undefined) {
    ignore("quantity_type", "it gives the unit of quantity, and no quantity was sent");
  }
  return warnings;
}

/**
 * The name `field` was sent under (itself, an alias, or the tutorial's nested `strategy.` name),
 * or undefined when it was not sent.
 */
function sentName(payload: Record<string, unknown>, field: CanonicalField): string | undefined {
  const given = (o: Record<string, unknown>, name: string) =>
    o[name] !== undefined && o[name] !== null;
  const top = namesOfField.find(([f]) => f === field)![1].find((name) => given(payload, name));
  if (top) return top;
  const strategy = payload.strategy;
  if (!isPlainObject(strategy)) return undefined;
  const nested = Object.entries(nestedStrategyFields).find(([name, to]) =>
    to === field && given(strategy, name)
  );
  return nested ? `strategy.${nested[0]}` : undefined;
}

/** Fields only an options alert carries: TradersPost's names and their snake_case forms. */
const optionFields = [
  "optionType",
  "option_type",
  "expiration",
  "expirationDate",
  "expiration_date",
  "strikePrice",
  "strike_price",
  "strikesAway",
  "strikes_away",
];

/**
 * An option contract's symbol: OCC (`SPY250620C00550000`), TradingView's (`SPY250620C550.0`)
 * or TradersPost's spaced form (`SPY 250624C596`).
 */
const optionSymbol = /^[A-Z]{1,6}\s*\d{6}[CP]\d+(\.\d+)?$/;

/** One issue per sign that the alert is for an option. */
function optionIssues(payload: Record<string, unknown>): Issue[] {
  const issues: Issue[] = optionFields.filter((f) =>
    payload[f] !== undefined && payload[f] !== null
  )
    .map((path) => ({ path, message: "is an option field" }));
  for (const field of ["ticker", "symbol"]) {
    const value = payload[field];
    if (typeof value === "string" && optionSymbol.test(stripExchangePrefix(value).toUpperCase())) {
      issues.push({ path: field, message: "is an option symbol" });
    }
  }
  return issues;
}

function unknownFieldWarnings(payload: Record<string, unknown>): string[] {
  const unknown: string[] = Object.keys(payload).filter((key) => !knownAlertFields.has(key));
  for (const legField of ["take_profit", "stop_loss", "takeProfit", "stopLoss"]) {
    const leg = payload[legField];
    if (!isPlainObject(leg)) continue;
    const known = legField.startsWith("stop") ? knownStopLossFields : knownTakeProfitFields;
    for (const key of Object.keys(leg)) {
      if (!known.has(key)) unknown.push(formatJsonPath([legField, key]));
    }
  }
  return unknown.map((field) => `unknown field '${field}' was stored but ignored`);
}

/** Whether `field` was sent under its name, an alias or the tutorial's nested name. */
function sentUnderAnyName(raw: unknown, field: "ticker" | "action"): boolean {
  if (!isPlainObject(raw)) return true; // the object check reports it
  const sent = (o: Record<string, unknown>, name: string) =>
    o[name] !== undefined && o[name] !== null;
  if (namesOfField.find(([f]) => f === field)![1].some((name) => sent(raw, name))) return true;
  const strategy = raw.strategy;
  return isPlainObject(strategy) &&
    Object.entries(nestedStrategyFields).some(([nested, to]) =>
      to === field && sent(strategy, nested)
    );
}

/**
 * Fills `action`, `quantity`, `price` and `position_size` from the tutorial's `strategy` object
 * when absent.
 */
function liftNestedStrategy(
  strategy: unknown,
  alert: NormalizedAlert,
  ctx: z.RefinementCtx<unknown>,
): void {
  if (!isPlainObject(strategy)) return;
  for (const [nested, field] of Object.entries(nestedStrategyFields)) {
    const value = strategy[nested];
    if (alert[field] !== undefined || value === undefined || value === null) continue;
    const parsed = canonicalFields[field].safeParse(value);
    if (parsed.success) {
      (alert as unknown as Record<string, unknown>)[field] = parsed.data as Action | number;
    } else {
      for (const issue of parsed.error.issues) {
        ctx.issues.push({
          code: "custom",
          input: value,
          path: ["strategy", nested, ...issue.path],
          message: issue.message,
        });
      }
    }
  }
}

/**
 * The value of the first of `names` that was sent. A field and its alias may both be sent only
 * with the same value: anything else is ambiguous, and money is at stake.
 */
function pickAlias<T>(
  raw: Record<string, unknown>,
  names: string[],
  ctx: z.RefinementCtx<unknown>,
): T | undefined {
  let chosen: { name: string; value: unknown } | undefined;
  for (const name of names) {
    const value = raw[name];
    if (value === undefined || value === null) continue;
    if (!chosen) {
      chosen = { name, value };
    } else if (!sameValue(chosen.value, value)) {
      ctx.issues.push({
        code: "custom",
        input: value,
        path: [name],
        message: `conflicts with '${chosen.name}'; send only one of them`,
      });
    }
  }
  return chosen?.value as T | undefined;
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** The prices each order type needs (docs/interface.md §4). */
function checkOrderType(alert: NormalizedAlert, ctx: z.RefinementCtx<unknown>): void {
  const need = (field: "limit_price" | "stop_price") => {
    if (alert[field] === undefined) {
      ctx.issues.push({
        code: "custom",
        input: undefined,
        path: [field],
        message: `is required when order_type is ${alert.order_type}`,
      });
    }
  };
  switch (alert.order_type) {
    case "limit":
      need("limit_price");
      break;
    case "stop":
      need("stop_price");
      break;
    case "stop_limit":
      need("limit_price");
      need("stop_price");
      break;
    case "trailing_stop": {
      const given = [alert.trail_price, alert.trail_percent].filter((v) => v !== undefined);
      if (given.length !== 1) {
        ctx.issues.push({
          code: "custom",
          input: undefined,
          path: [given.length === 0 ? "trail_price" : "trail_percent"],
          message: given.length === 0
            ? "is required when order_type is trailing_stop, unless trail_percent is sent"
            : "cannot be sent together with trail_price; send exactly one of them",
        });
      }
      break;
    }
  }
}
