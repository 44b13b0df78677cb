// Initial seeding (BitTorrent's super-seeding, simplified): a busy peer does not upload a chunk a
// second time to someone who can fetch it from another peer that already announced it, so its
// upload goes to chunks the swarm does not have yet. Pure.

export interface RepeatFacts {
  /** How often this peer uploaded the chunk so far. */
  timesSent: number
  /** Our upload is the limit: a cap is set, or other peers wait for uploads too. */
  busy: boolean
  /** Another peer we are connected to announced the chunk. */
  heldElsewhere: boolean
  /** This requester was sent elsewhere for this chunk before (the second ask is served: it may not reach that peer). */
  redirectedBefore: boolean
}

/** Whether to answer a request with "ask a peer that has it" (a reject) instead of sending the chunk again. */
export function askElsewhere(facts: RepeatFacts): boolean {
  return facts.timesSent > 0 && facts.busy && facts.heldElsewhere && !facts.redirectedBefore
}
