// Where each resource goes in the plan's text: under its real parent. The engine announces
// resources in the order they register, and `pulumi preview --diff` indents each by how many of
// its ancestors it has announced (pkg/backend/display/object_diff.go, getIndent), so a child
// printed right after an unrelated sibling of its parent reads as that sibling's child: an
// ovh:Ip/move:Move under a ContainerNic. The plan lays its blocks out as a tree instead.

/** One block of the --diff text: an entry the caller gave, or an ancestor of one, and its depth under the root stack. */
export interface Placed<T> {
    /** The caller's entry, or undefined for an ancestor shown only to hang its descendants under (an unchanged parent). */
    entry?: T;
    urn: string;
    /** 1 for a child of the root stack. */
    depth: number;
}

/**
 * The entries in tree order: each resource's entries together (a replacement's steps stay in
 * their order), then its children's, siblings in the order their first entry comes (the engine's),
 * with every ancestor that has no entry of its own placed once, before its first descendant.
 * `parentOf` gives a resource's parent; a resource whose parent is unknown, or the root stack,
 * hangs under the root.
 */
export function inTreeOrder<T>(entries: readonly T[], urnOf: (e: T) => string, parentOf: (urn: string) => string | undefined, rootUrn: string): Placed<T>[] {
    const entriesOf = new Map<string, T[]>();
    for (const e of entries) entriesOf.set(urnOf(e), [...(entriesOf.get(urnOf(e)) ?? []), e]);
    const children = new Map<string, string[]>();
    const placed = new Set<string>([rootUrn]);
    /** The ancestors a resource is shown under, nearest first, up to the root or an unknown parent. */
    const ancestry = (urn: string): string[] => {
        const chain: string[] = [];
        for (let p = parentOf(urn); p !== undefined && p !== rootUrn && !chain.includes(p) && p !== urn; p = parentOf(p)) chain.push(p);
        return chain;
    };
    const parentShown = (urn: string): string => {
        const p = parentOf(urn);
        return p === undefined || p === urn ? rootUrn : p;
    };
    const attach = (urn: string) => {
        if (placed.has(urn)) return;
        placed.add(urn);
        const parent = parentShown(urn);
        children.set(parent, [...(children.get(parent) ?? []), urn]);
    };
    for (const urn of entriesOf.keys()) {
        // Ancestors first, the farthest first, so that each hangs under the one above it.
        for (const a of ancestry(urn).reverse()) attach(a);
        attach(urn);
    }
    const out: Placed<T>[] = [];
    const visit = (urn: string, depth: number) => {
        const own = entriesOf.get(urn);
        if (own) for (const entry of own) out.push({ entry, urn, depth });
        else out.push({ urn, depth });
        for (const c of children.get(urn) ?? []) visit(c, depth + 1);
    };
    for (const c of children.get(rootUrn) ?? []) visit(c, 1);
    return out;
}
