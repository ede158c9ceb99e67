import t from "tap";
import { cronSchedule, intervalSchedule } from "../../../../lib/tasks/beat/schedule.js";

const at = (iso: string) => Date.parse(iso);

t.test("cron: previous is at or before, next strictly after", async (t) => {
  const five = cronSchedule("*/5 * * * *");
  t.equal(five.previous(at("2030-01-01T12:03:00Z")), at("2030-01-01T12:00:00Z"));
  t.equal(five.previous(at("2030-01-01T12:05:00Z")), at("2030-01-01T12:05:00Z"), "a tick exactly now counts as due");
  t.equal(five.next(at("2030-01-01T12:05:00Z")), at("2030-01-01T12:10:00Z"));
  t.equal(five.next(at("2030-01-01T12:04:59.999Z")), at("2030-01-01T12:05:00Z"));
  t.equal(five.description, 'cron "*/5 * * * *" (UTC)');
  const seconds = cronSchedule("  15 * * * * *  ");
  t.equal(seconds.next(at("2030-01-01T12:00:00Z")), at("2030-01-01T12:00:15Z"));
  const paris = cronSchedule("30 8 * * 1-5", "Europe/Paris");
  t.equal(paris.next(at("2030-07-05T12:00:00Z")), at("2030-07-08T06:30:00Z"), "Friday noon → Monday 08:30 CEST");
  t.equal(cronSchedule("@daily").next(at("2030-01-01T12:00:00Z")), at("2030-01-02T00:00:00Z"));
});

t.test("cron: invalid expressions and timezones throw a TypeError", async (t) => {
  for (const bad of ["", "* * * *", "* * * * * * *", "61 * * * *", "*/0 * * * *", "0 0 31 2 *", "every minute", "@sometimes"]) {
    t.throws(() => cronSchedule(bad), TypeError, JSON.stringify(bad));
  }
  t.throws(() => cronSchedule("* * * * *", "Not/AZone"), /Not\/AZone/);
  t.throws(() => cronSchedule(undefined as never), TypeError);
});

t.test("interval: an epoch-anchored grid", async (t) => {
  const thirty = intervalSchedule(30);
  t.equal(thirty.previous(95_000), 90_000);
  t.equal(thirty.previous(90_000), 90_000);
  t.equal(thirty.next(90_000), 120_000);
  t.equal(thirty.next(89_999), 90_000);
  t.equal(intervalSchedule(0.25).next(1000), 1250);
  t.equal(thirty.description, "every 30s");
  for (const bad of [0, -1, Number.NaN, Infinity, 0.0001, "5" as unknown as number]) {
    t.throws(() => intervalSchedule(bad), RangeError, String(bad));
  }
});
