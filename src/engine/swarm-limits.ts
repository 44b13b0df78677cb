// How many links and lanes a file's swarm keeps, and the clocks of their liveness.
/** Members we dial per file while downloading (lanes count as one). */
export const MAX_LINKS_PER_FILE = 8
/** Members that dialled us, per file. */
export const MAX_INCOMING_LINKS_PER_FILE = 16
/** First links from others still connecting, per file: offers that never complete cannot fill every slot. */
export const MAX_PENDING_INCOMING_LINKS = 4
/** Extra lanes per file, all members together: each is a peer connection of its own. */
export const MAX_EXTRA_LANES_PER_FILE = 32
export const PING_INTERVAL_MS = 10_000
/** A lane that has heard nothing this long, its ping unanswered, is dead (Chromium can take ~30 s to notice). */
export const PING_TIMEOUT_MS = 20_000
/** When the tracker says a linked peer left, its lanes get this long to answer a ping. */
export const LEFT_PROBE_MS = 3_000
/** A peer reached only through the relay is tried directly again this often (networks change). */
export const DIRECT_RETRY_MS = 30_000
