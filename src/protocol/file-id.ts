/** A file id: the SHA-256 of its canonical manifest, in lowercase hex. (No imports: the Service Worker's bundle uses it.) */
export const FILE_ID_PATTERN = /^[0-9a-f]{64}$/
