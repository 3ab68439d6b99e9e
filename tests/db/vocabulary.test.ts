/**
 * The vocabularies TypeScript cannot take from the generated `Constants` are the subsets SQL
 * predicates define; these tests fail when `_shared/vocabulary.ts` and the predicates differ.
 * The enums themselves reach TypeScript through `Constants` (the drift test in schema.test.ts).
 */
import assert from "node:assert/strict";
import { withDb } from "../support/stack.ts";
import {
  finalSignalStatuses,
  notificationEvents,
  orderStatusesThatNeverFill,
  signalStatuses,
} from "../../supabase/functions/_shared/vocabulary.ts";

Deno.test("finalSignalStatuses are the statuses signal_status_is_final holds, in enum order", async () => {
  const [row] = await withDb((sql) =>
    sql`select array(select s::text from unnest(enum_range(null::public.signal_status)) s
                      where public.signal_status_is_final(s)) as final`
  );
  assert.deepEqual(row.final, [...finalSignalStatuses]);
});

Deno.test("orderStatusesThatNeverFill are the statuses order_status_never_fills holds, in enum order", async () => {
  const [row] = await withDb((sql) =>
    sql`select array(select s::text from unnest(enum_range(null::public.order_status)) s
                      where public.order_status_never_fills(s)) as dead`
  );
  assert.deepEqual(row.dead, [...orderStatusesThatNeverFill]);
});

Deno.test("notificationEvents are what is_notification_event holds: final statuses and warning", async () => {
  const candidates = [...signalStatuses, "warning", "warnings", "", "Filled"];
  const [row] = await withDb((sql) =>
    sql`select array(select e from unnest(${candidates}::text[]) e
                      where public.is_notification_event(e)) as events`
  );
  assert.deepEqual(row.events, [...notificationEvents]);
});
