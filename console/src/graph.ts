import { gql } from "./api";

export interface SchemaAttribute {
  name: string;
  type: string;
  pii: boolean;
  description: string;
}

export interface SchemaEntity {
  name: string;
  profile: boolean;
  description: string;
  attributes: SchemaAttribute[];
}

export interface GraphInfo {
  audiences: string[];
  entities: SchemaEntity[];
  relationships: { type: string; source: string; target: string; attributes: SchemaAttribute[] }[];
}

const QUERY = `{ graphSchema { audiences
  entities { name profile description attributes { name type pii description } }
  relationships { type source target attributes { name type pii description } } } }`;

let cached: Promise<GraphInfo> | null = null;

/** The graph schema, read once per page load (it changes only with a server restart). */
export function graphInfo(): Promise<GraphInfo> {
  if (!cached) {
    cached = gql<{ graphSchema: GraphInfo }>(QUERY).then((d) => d.graphSchema);
    cached.catch(() => (cached = null));
  }
  return cached;
}

export function entity(info: GraphInfo, name: string): SchemaEntity | undefined {
  const folded = name.toLowerCase();
  return info.entities.find((e) => e.name.toLowerCase() === folded);
}
