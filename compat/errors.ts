/**
 * The one error catalogue of the HTTP API: code, ComfyUI `type`, message, HTTP status, and the
 * body shape ComfyUI answers with for that route family.
 *
 * Shapes (what a ComfyUI client parses):
 * - `prompt`: `{"error": {type, message, details, extra_info}, "node_errors": {}}` (POST /prompt)
 * - `simple`: `{"error": "<message>"}` (jobs, users, internal files)
 * - `text`:   plain-text message (ComfyUI answers these with an empty or text body; only the
 *             status matters to clients, so the text just explains)
 *
 * Example: `throw new HttpError(ERRORS.JOBS_BAD_SORT_BY)` → 400 `{"error": "sort_by must be …"}`.
 */

export type ErrorShape = 'prompt' | 'simple' | 'text';

export interface ErrorDef {
  readonly code: string;
  /** ComfyUI's `error.type` (prompt shape); a stable slug otherwise. */
  readonly type: string;
  readonly message: string;
  readonly status: number;
  readonly shape: ErrorShape;
}

function def(code: string, type: string, status: number, shape: ErrorShape, message: string): ErrorDef {
  return Object.freeze({ code, type, status, shape, message });
}

const JOB_STATUSES = 'pending, in_progress, completed, failed, cancelled';

export const ERRORS = {
  // --- request body ---
  BODY_INVALID_JSON: def('BODY_INVALID_JSON', 'invalid_json', 500, 'prompt', 'Request body is not valid JSON'),
  BODY_TOO_LARGE: def('BODY_TOO_LARGE', 'request_too_large', 413, 'text', 'Request body exceeds --max-upload-size'),
  BODY_NOT_OBJECT: def('BODY_NOT_OBJECT', 'invalid_body', 400, 'prompt', 'Request body must be a JSON object'),

  // --- security ---
  CROSS_SITE_REFUSED: def('SECURITY_CROSS_SITE', 'forbidden', 403, 'text', ''),

  AUTH_REQUIRED: def('AUTH_REQUIRED', 'unauthorized', 401, 'prompt', 'Authentication required: {details}'),
  ADMIN_ONLY: def('ADMIN_ONLY', 'forbidden', 403, 'prompt', 'This route is for administrators'),
  RATE_LIMITED: def('RATE_LIMITED', 'rate_limited', 429, 'prompt', 'Too many prompts: at most {limit} per minute per user'),
  QUEUE_CAP_REACHED: def('QUEUE_CAP_REACHED', 'queue_full', 429, 'prompt', 'Too many queued prompts: at most {limit} pending per user'),

  // --- /prompt ---
  PROMPT_MISSING: def('PROMPT_MISSING', 'no_prompt', 400, 'prompt', 'No prompt provided'),
  PROMPT_INVALID_ID: def('PROMPT_INVALID_ID', 'invalid_prompt_id', 400, 'prompt', 'prompt_id must be a valid UUID'),
  PROMPT_NOT_OBJECT: def('PROMPT_NOT_OBJECT', 'invalid_prompt', 400, 'prompt', 'Invalid prompt'),
  PROMPT_BAD_NUMBER: def('PROMPT_BAD_NUMBER', 'invalid_number', 400, 'prompt', 'number must be a number'),
  PROMPT_BAD_TARGETS: def('PROMPT_BAD_TARGETS', 'invalid_partial_execution_targets', 400, 'prompt', 'partial_execution_targets must be a list of node ids'),

  // --- jobs API (exact upstream strings) ---
  JOBS_BAD_STATUS: def('JOBS_BAD_STATUS', 'invalid_status', 400, 'simple', `Invalid status value(s): {values}. Valid values: ${JOB_STATUSES}`),
  JOBS_BAD_SORT_BY: def('JOBS_BAD_SORT_BY', 'invalid_sort_by', 400, 'simple', "sort_by must be 'created_at' or 'execution_duration'"),
  JOBS_BAD_SORT_ORDER: def('JOBS_BAD_SORT_ORDER', 'invalid_sort_order', 400, 'simple', "sort_order must be 'asc' or 'desc'"),
  JOBS_LIMIT_NOT_POSITIVE: def('JOBS_LIMIT_NOT_POSITIVE', 'invalid_limit', 400, 'simple', 'limit must be a positive integer'),
  JOBS_LIMIT_NOT_INT: def('JOBS_LIMIT_NOT_INT', 'invalid_limit', 400, 'simple', 'limit must be an integer'),
  JOBS_OFFSET_NOT_INT: def('JOBS_OFFSET_NOT_INT', 'invalid_offset', 400, 'simple', 'offset must be an integer'),
  JOBS_NOT_FOUND: def('JOBS_NOT_FOUND', 'not_found', 404, 'simple', 'Job not found'),
  JOBS_CANCEL_BAD_JSON: def('JOBS_CANCEL_BAD_JSON', 'invalid_json', 400, 'simple', 'Request body must be valid JSON'),
  JOBS_CANCEL_NOT_LIST: def('JOBS_CANCEL_NOT_LIST', 'invalid_job_ids', 400, 'simple', 'job_ids must be a list'),
  JOBS_CANCEL_BAD_IDS: def('JOBS_CANCEL_BAD_IDS', 'invalid_job_ids', 400, 'simple', 'job_ids contains invalid id(s)'),

  // --- history / queue ---
  HISTORY_BAD_INT: def('HISTORY_BAD_INT', 'invalid_query', 400, 'simple', '{name} must be an integer'),

  // --- files: /view, /upload/*, /view_metadata ---
  FILE_NAME_MISSING: def('FILE_NAME_MISSING', 'not_found', 404, 'text', 'filename is required'),
  FILE_NAME_INVALID: def('FILE_NAME_INVALID', 'invalid_filename', 400, 'text', 'Invalid filename: it must be non-empty, relative and contain no ".."'),
  FILE_TYPE_INVALID: def('FILE_TYPE_INVALID', 'invalid_type', 400, 'text', 'Invalid type "{value}"; valid types: output, input, temp'),
  FILE_SUBFOLDER_ESCAPE: def('FILE_SUBFOLDER_ESCAPE', 'forbidden', 403, 'text', 'subfolder must stay inside the {dir} directory'),
  FILE_NOT_FOUND: def('FILE_NOT_FOUND', 'not_found', 404, 'text', 'File not found'),
  FILE_NOT_IMAGE: def('FILE_NOT_IMAGE', 'invalid_image', 400, 'text', 'The file is not an image that can be converted'),
  UPLOAD_NO_FILE: def('UPLOAD_NO_FILE', 'no_file', 400, 'text', 'No file uploaded: send multipart field "image" with a filename'),
  UPLOAD_ESCAPE: def('UPLOAD_ESCAPE', 'invalid_path', 400, 'text', 'Upload target escapes the {dir} directory'),
  UPLOAD_NOT_IMAGE: def('UPLOAD_NOT_IMAGE', 'invalid_image', 400, 'text', 'The upload is not an image: {details}'),
  UPLOAD_TOO_MANY_PIXELS: def('UPLOAD_TOO_MANY_PIXELS', 'image_too_large', 400, 'text', 'The image is {width}x{height}: more than --max-upload-pixels allows'),
  UPLOAD_TOO_LARGE: def('UPLOAD_TOO_LARGE', 'request_too_large', 413, 'text', 'Upload exceeds --max-upload-size'),
  UPLOAD_BAD_MULTIPART: def('UPLOAD_BAD_MULTIPART', 'invalid_multipart', 400, 'text', 'Malformed multipart body: {details}'),
  MASK_BAD_ORIGINAL_REF: def('MASK_BAD_ORIGINAL_REF', 'invalid_original_ref', 400, 'text', 'original_ref must be a JSON object with a "filename"'),
  MODEL_FOLDER_UNKNOWN: def('MODEL_FOLDER_UNKNOWN', 'not_found', 404, 'text', 'Unknown model folder "{value}"'),
  MODEL_PREVIEW_BAD_INDEX: def('MODEL_PREVIEW_BAD_INDEX', 'invalid_path_index', 400, 'text', 'path_index "{value}" must be an integer in 0..{count} (exclusive)'),
  MODEL_PREVIEW_NOT_FOUND: def('MODEL_PREVIEW_NOT_FOUND', 'not_found', 404, 'text', 'No preview image for this model'),
  METADATA_NOT_FOUND: def('METADATA_NOT_FOUND', 'not_found', 404, 'text', 'No safetensors metadata found'),

  // --- users, settings, userdata ---
  USER_UNKNOWN: def('USER_UNKNOWN', 'unknown_user', 401, 'text', 'Unknown user: {value}'),
  USER_DUPLICATE: def('USER_DUPLICATE', 'duplicate_user', 400, 'simple', 'Duplicate username.'),
  USER_NAME_MISSING: def('USER_NAME_MISSING', 'invalid_user', 400, 'simple', 'username not provided'),
  USERDATA_NO_DIR: def('USERDATA_NO_DIR', 'invalid_dir', 400, 'text', 'Directory not provided'),
  USERDATA_FORBIDDEN: def('USERDATA_FORBIDDEN', 'forbidden', 403, 'text', 'Path escapes the user directory'),
  USERDATA_NOT_FOUND: def('USERDATA_NOT_FOUND', 'not_found', 404, 'text', 'Path not found'),
  USERDATA_NO_FILE: def('USERDATA_NO_FILE', 'invalid_path', 400, 'text', 'File name not provided'),
  USERDATA_EXISTS: def('USERDATA_EXISTS', 'conflict', 409, 'text', 'File already exists'),
  USERDATA_BAD_PATH: def('USERDATA_BAD_PATH', 'invalid_path', 400, 'text', 'Invalid path requested'),
  USERDATA_NOT_DIR: def('USERDATA_NOT_DIR', 'invalid_path', 400, 'text', 'Requested path is not a directory'),
  USERDATA_WRITE_FAILED: def('USERDATA_WRITE_FAILED', 'write_failed', 400, 'text', 'Could not write file: {details}'),

  // --- internal ---
  INTERNAL_BAD_DIR_TYPE: def('INTERNAL_BAD_DIR_TYPE', 'invalid_type', 400, 'simple', 'Invalid directory type'),
  NOT_FOUND: def('NOT_FOUND', 'not_found', 404, 'text', 'Not found'),
  FS_BAD_PATH: def('FS_BAD_PATH', 'invalid_path', 400, 'text', 'Invalid file path ({details})'),
  INTERNAL_ERROR: def('INTERNAL_ERROR', 'server_error', 500, 'text', 'Internal server error (see the server log)'),
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** Fills `{name}` placeholders of a message template. */
export function formatMessage(template: string, vars: Record<string, string> = {}): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? vars[k]! : m));
}

export interface HttpErrorOptions {
  /** Placeholder values for the message template. */
  vars?: Record<string, string>;
  /** `details` of the prompt shape (defaults to the message). */
  details?: string;
  extraInfo?: Record<string, unknown>;
  /** Extra top-level keys of the `simple` shape, e.g. `invalid_ids`. */
  extraBody?: Record<string, unknown>;
}

/** An error with a catalogue entry; the app's error handler turns it into the ComfyUI body. */
export class HttpError extends Error {
  readonly status: number;
  constructor(
    readonly def: ErrorDef,
    readonly opts: HttpErrorOptions = {},
  ) {
    super(formatMessage(def.message, opts.vars));
    this.name = 'HttpError';
    this.status = def.status;
  }

  /** The response body in the route family's shape. */
  body(): unknown {
    switch (this.def.shape) {
      case 'prompt':
        return {
          error: { type: this.def.type, message: this.message, details: this.opts.details ?? this.message, extra_info: this.opts.extraInfo ?? {} },
          node_errors: {},
        };
      case 'simple':
        return { error: this.message, ...(this.opts.extraBody ?? {}) };
      case 'text':
        return this.message;
    }
  }
}
