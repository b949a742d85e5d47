// The parts of a Postman collection (format v2.1) the generator reads or writes.

export interface PmHeader {
  key: string;
  value: string;
  disabled?: boolean;
  description?: string;
}
export interface PmVariable {
  key: string;
  value: string;
  type?: string;
  disabled?: boolean;
  description?: string;
}
export interface PmUrl {
  raw?: string;
  host?: string[];
  path?: string[];
  query?: PmVariable[];
  variable?: PmVariable[];
}
export interface PmBody {
  mode: string;
  raw?: string;
  formdata?: Array<{ key: string; type: 'file' | 'text'; src?: string; value?: string }>;
  options?: { raw?: { language?: string } };
}
export interface PmAuth {
  type: string;
  bearer?: Array<{ key: string; value: string; type: string }>;
}
export interface PmRequest {
  name?: string;
  description?: { content: string; type: string } | string;
  url: PmUrl;
  header?: PmHeader[];
  method: string;
  body?: PmBody;
  auth?: PmAuth;
}
export interface PmResponse {
  id?: string;
  name: string;
  originalRequest?: PmRequest;
  status?: string;
  code: number;
  header?: PmHeader[];
  body?: string;
  cookie?: unknown[];
  _postman_previewlanguage?: string;
}
export interface PmEvent {
  listen: 'prerequest' | 'test';
  script: { id?: string; type: string; exec: string[] };
}
export interface PmItem {
  id?: string;
  name: string;
  description?: { content: string; type: string } | string;
  item?: PmItem[];
  request?: PmRequest;
  response?: PmResponse[];
  event?: PmEvent[];
  protocolProfileBehavior?: Record<string, unknown>;
}
export interface PmCollection {
  info: { _postman_id?: string; name: string; schema: string; description?: { content: string; type: string } | string };
  item: PmItem[];
  event?: PmEvent[];
  variable?: PmVariable[];
  auth?: PmAuth;
}
/** A Postman environment file. */
export interface PmEnvironment {
  id: string;
  name: string;
  values: Array<{ key: string; value: string; type: string; enabled: boolean }>;
  _postman_variable_scope: 'environment';
}
