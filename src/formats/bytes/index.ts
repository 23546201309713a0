/** Binary reading and writing shared by the wire-format codecs. */
export { Reader, Writer } from './reader.js';
