import { useEffect, useState } from "preact/hooks";

// Hash routes (#/segments/ID) keep every page at /console/, so the server needs no fallback.
export function currentPath(): string {
  return location.hash.replace(/^#/, "") || "/segments";
}

export function useRoute(): string[] {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const update = () => setPath(currentPath());
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return path.split("?")[0].split("/").filter(Boolean).map(decodeURIComponent);
}

export function navigate(path: string): void {
  location.hash = path;
}

export function href(...parts: string[]): string {
  return "#/" + parts.map(encodeURIComponent).join("/");
}
