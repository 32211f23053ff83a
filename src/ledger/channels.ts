/**
 * The NOTIFY channel on which decided reservation keys are announced (one channel per ledger schema, so test
 * schemas sharing a database never hear each other). Payload: the reservation key.
 */
export function decisionChannel(schema: string): string {
  return `qm_admission_${schema}`;
}
