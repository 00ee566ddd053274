/**
 * The one way the page starts async work it does not await (an event handler, a refresh after a
 * change event). The bridge answers with results and never throws, so a rejection here is a
 * defect: it is logged, never left unhandled (no-floating-promises, no-misused-promises).
 */
export const run = (work: Promise<unknown>): void => {
  work.catch((error: unknown) => console.error(error))
}

/** An event handler that starts async work, through `run`. */
export const handler = <E>(work: (event: E) => Promise<unknown>) => (event: E): void => run(work(event))
