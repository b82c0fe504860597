// Sorting the fusion explorer's rows by a field.

export function sortRows<T, K extends keyof T>(rows: readonly T[], column: K, descending: boolean): T[] {
  const sign = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x: unknown = a[column];
    const y: unknown = b[column];
    if (typeof x === "number" && typeof y === "number") return sign * (x - y);
    return sign * String(x).localeCompare(String(y), undefined, { numeric: true });
  });
}

export function formatCount(n: number): string {
  const units: [number, string][] = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
  for (const [scale, suffix] of units) if (Math.abs(n) >= scale) return `${(n / scale).toPrecision(3)}${suffix}`;
  return String(n);
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  for (const unit of units) {
    if (Math.abs(v) < 1024 || unit === "TiB") return unit === "B" ? `${v} B` : `${v.toPrecision(3)} ${unit}`;
    v /= 1024;
  }
  return `${v} TiB`;
}
