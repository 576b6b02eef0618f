// Formatting of sizes, dates and digests for display.

export function bytes(n) {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? String(v) : v.toFixed(v < 10 ? 1 : 0)) + " " + units[i];
}

// A Date from the API's forms: seconds since the epoch, or an RFC 2822 string.
export function toDate(v) {
  if (v === null || v === undefined || v === "") return null;
  if (typeof v === "number") return new Date(v * 1000);
  const d = new Date(v);
  return isNaN(d) ? null : d;
}

export function when(v) {
  const d = toDate(v);
  if (!d) return "—";
  const s = (Date.now() - d.getTime()) / 1000;
  const ago = (n, u) => n + " " + u + (n === 1 ? "" : "s") + " ago";
  if (s < 0) return d.toLocaleString();
  if (s < 60) return "just now";
  if (s < 3600) return ago(Math.floor(s / 60), "minute");
  if (s < 86400) return ago(Math.floor(s / 3600), "hour");
  if (s < 86400 * 30) return ago(Math.floor(s / 86400), "day");
  return d.toLocaleDateString();
}

export function isoTitle(v) {
  const d = toDate(v);
  return d ? d.toISOString() : "";
}

export function shortDigest(d) {
  if (!d) return "—";
  const i = d.indexOf(":");
  return i < 0 ? d.slice(0, 12) : d.slice(0, i + 1 + 12);
}
