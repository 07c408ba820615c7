/** What edge validation reports, per request and per answer (metrics, drift logs). */
export type ValidationResult =
  | 'passed'
  | 'refused'
  | 'drift'
  | 'no_document'
  | 'undocumented'
  | 'bad_schema'
  | 'skipped';

export interface FieldError {
  field: string;
  in: 'path' | 'query' | 'header' | 'body';
  code: string;
  message: string;
}
