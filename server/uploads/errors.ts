/** The refusals of the upload routes, each with a stable code and its HTTP status, in one table. */

export const UploadErrorCode = {
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_REQUEST: 400,
  /** the bytes are not an image we accept, or cannot be decoded */
  UNSUPPORTED_TYPE: 415,
  /** a truncated or corrupt image */
  INVALID_IMAGE: 400,
  /** over UPLOAD_MAX_BYTES */
  TOO_LARGE: 413,
  /** over UPLOAD_MAX_PIXELS (e.g. a small file that would decode to a gigantic image) */
  TOO_MANY_PIXELS: 413,
  /** a signed image URL that is missing, tampered with or expired */
  BAD_SIGNATURE: 403,
  METHOD_NOT_ALLOWED: 405,
  UNAVAILABLE: 503,
} as const;

export type UploadErrorCodeName = keyof typeof UploadErrorCode;

export class UploadError extends Error {
  readonly status: number;

  constructor(
    readonly code: UploadErrorCodeName,
    message: string,
  ) {
    super(message);
    this.name = 'UploadError';
    this.status = UploadErrorCode[code];
  }

  toJSON() {
    return { error: { code: this.code, message: this.message } };
  }
}
