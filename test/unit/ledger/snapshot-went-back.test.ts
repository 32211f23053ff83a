import { snapshotWentBack } from '../../../src/ledger/live-rows';

// A copy of the live rows read at one snapshot must not be carried on by a read that does not see everything that
// snapshot saw: an older transaction of the same process, or another database whose transaction ids restarted lower
// (a restore, a recreated embedded database): rows would look already seen.
describe('snapshotWentBack', () => {
  it('is false when the new snapshot sees everything the old one did', () => {
    expect(snapshotWentBack('100:105:101,103', '104:110:')).toBe(false);
    expect(snapshotWentBack('100:105:', '100:105:')).toBe(false);
    expect(snapshotWentBack('100:105:101,103', '101:105:101,103')).toBe(false);
    expect(snapshotWentBack('100:105:101', '101:107:101,105,106')).toBe(false);
    expect(snapshotWentBack('9007199254740993:9007199254740995:', '9007199254740994:9007199254740996:')).toBe(
      false,
    );
  });
  it('is true when xmax went back, even by one past 2^53', () => {
    expect(snapshotWentBack('5000:5010:', '700:702:')).toBe(true);
    expect(snapshotWentBack('9007199254740993:9007199254740995:', '9007199254740993:9007199254740994:')).toBe(
      true,
    );
  });
  it('is true when a transaction the old one saw committed is still in progress in the new one (same xmax)', () => {
    expect(snapshotWentBack('100:105:', '100:105:103')).toBe(true);
    expect(snapshotWentBack('100:105:101', '100:105:101,104')).toBe(true);
  });
  it('counts an unreadable snapshot as missing something', () => {
    expect(snapshotWentBack('', '1:2:')).toBe(true);
    expect(snapshotWentBack('1:2:', 'garbage')).toBe(true);
    expect(snapshotWentBack('1:-2:', '1:2:')).toBe(true);
    expect(snapshotWentBack('1:2:,', '1:2:')).toBe(true);
  });
});
