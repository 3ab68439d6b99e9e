import { ApiError, errorResponse } from "../_shared/errors.ts";

/** Not built yet: answers a JSON 501, never a fake success. */
export function handler(_req: Request): Response {
  return errorResponse(
    new ApiError(501, "not_implemented", "receive-webhook is not implemented yet"),
  );
}
