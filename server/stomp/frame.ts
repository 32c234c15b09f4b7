/**
 * The STOMP frame model shared by the parser, the encoder and the session.
 *
 * Owns: byte constants, the command sets, the decoded frame type and the version type.
 * Spec: https://stomp.github.io/stomp-specification-1.2.html#STOMP_Frames
 */

export const LF = 10;
export const CR = 13;
export const NULL = 0;
export const COLON = 58;
export const BACKSLASH = 92;

/** Commands a client may send (spec §Client Frames). Anything else is BAD_COMMAND. */
export const CLIENT_COMMANDS = [
  'CONNECT',
  'STOMP',
  'SEND',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'ACK',
  'NACK',
  'BEGIN',
  'COMMIT',
  'ABORT',
  'DISCONNECT',
] as const;

export type ClientCommand = (typeof CLIENT_COMMANDS)[number];

/** Commands the server sends (spec §Server Frames). */
export type ServerCommand = 'CONNECTED' | 'MESSAGE' | 'RECEIPT' | 'ERROR';

export type StompVersion = '1.0' | '1.1' | '1.2';

/** Highest first: negotiation picks the first one both sides accept. */
export const SUPPORTED_VERSIONS: readonly StompVersion[] = ['1.2', '1.1', '1.0'];

/** A decoded client frame. */
export interface StompFrame {
  readonly command: ClientCommand;
  /**
   * Headers in order of first occurrence, values unescaped. A repeated header keeps its first
   * value (spec §Repeated Header Entries); later repetitions are dropped.
   */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}
