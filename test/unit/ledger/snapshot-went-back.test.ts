import { snapshotWentBack } from '../../../src/ledger/live-rows';

// A copy of the live rows read from one database must not be carried on to another whose transaction ids
// restarted lower (a restore, a recreated embedded database): its rows would all look already seen.
describe('snapshotWentBack', () => {
  it('is false while xmax grows or stays', () => {
    expect(snapshotWentBack('100:105:101,103', '104:110:')).toBe(false);
    expect(snapshotWentBack('100:105:', '100:105:')).toBe(false);
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
  it('counts an unreadable snapshot as gone back', () => {
    expect(snapshotWentBack('', '1:2:')).toBe(true);
    expect(snapshotWentBack('1:2:', 'garbage')).toBe(true);
    expect(snapshotWentBack('1:-2:', '1:2:')).toBe(true);
  });
});
