import { createContext } from "preact";
import { useContext } from "preact/hooks";

export type Permission =
  | "READ_SEGMENTS"
  | "READ_MEMBERS"
  | "READ_SCORES"
  | "MANAGE_SEGMENTS"
  | "MANAGE_EXPORTS"
  | "MANAGE_KEYS"
  | "WRITE_DATA"
  | "READ_PII";

export interface Viewer {
  actor: string;
  role: string;
  permissions: Permission[];
  readsPii: boolean;
}

export const VIEWER_QUERY = `{ viewer { actor role permissions readsPii } }`;

export const ViewerContext = createContext<Viewer | null>(null);

/** Whether the signed-in caller holds a permission: what it may not do is not offered. */
export function useCan(): (permission: Permission) => boolean {
  const viewer = useContext(ViewerContext);
  return (permission) => !!viewer && viewer.permissions.includes(permission);
}
