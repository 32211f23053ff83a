// Preloaded into a child `qm worker` (node -r) to skew its wall clock by QM_TEST_CLOCK_SKEW_MS: Date.now() and
// `new Date()` run ahead (or behind), as on a host whose clock is wrong. Monotonic clocks are untouched.
const skew = Number(process.env.QM_TEST_CLOCK_SKEW_MS ?? 0);
const RealDate = Date;
class SkewedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + skew);
    else super(...args);
  }
  static now() {
    return RealDate.now() + skew;
  }
}
globalThis.Date = SkewedDate;
