import { ApiError, ErrorCode } from "./errors.ts";

/** Throws 405 `method_not_allowed` (with `Allow: POST`) unless the request is a POST. */
export function requirePost(req: Request): void {
  if (req.method !== "POST") {
    throw new ApiError(405, ErrorCode.methodNotAllowed, "use POST", undefined, { allow: "POST" });
  }
}
