/** HTTP plumbing shared by the mcsec servers. */
export { loadOrCreateTls, type TlsFiles } from './tls-files.js';
export { httpsPost, type HttpAnswer, type PostOptions } from './https-post.js';
