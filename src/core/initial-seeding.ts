// Initial seeding (BitTorrent's super-seeding, simplified): a busy peer does not upload a chunk a
// second time to someone who can fetch it from another peer that holds it, or soon will, so its
// upload goes to chunks the swarm does not have yet. Pure.

export interface RepeatFacts {
  /** How often this peer uploaded the chunk so far. */
  timesSent: number
  /** Our upload is the limit: a cap is set, or other peers wait for uploads too. */
  busy: boolean
  /** Another peer we are connected to announced the chunk, or we finished sending it to one. */
  heldElsewhere: boolean
  /** We are sending the chunk to another connected peer right now. */
  arrivingElsewhere: boolean
  /** This requester was pointed at a holder of this chunk before (it may not reach that peer). */
  redirectedBefore: boolean
}

/**
 * How to answer a request: 'send' the chunk; 'redirect' (reject, and remember this requester was
 * pointed at a holder, so its next ask is served); or 'later' (reject without remembering: no one
 * holds the chunk yet but it is on its way to someone; the requester asks again after its delay).
 */
export type RepeatAnswer = 'send' | 'redirect' | 'later'

export function answerRepeat(facts: RepeatFacts): RepeatAnswer {
  if (facts.timesSent === 0 || !facts.busy || facts.redirectedBefore) return 'send'
  if (facts.heldElsewhere) return 'redirect'
  return facts.arrivingElsewhere ? 'later' : 'send'
}
