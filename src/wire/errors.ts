// The one error body of REST, WebSocket, Socket.IO acknowledgements, GraphQL extensions and the UI.

export interface ErrorBody<Code extends string = string> {
  code: Code;
  message: string;
  detail?: string;
}
