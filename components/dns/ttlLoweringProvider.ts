// The Pulumi dynamic provider of TtlLowering: when the records of an endpoint were applied at a
// lowered TTL, kept in the stack's state, so that an IP change can wait until every resolver has
// let go of what it cached at the old TTL, whichever laptop runs the next step. It changes nothing
// in the world; delete does nothing.
import type * as pulumi from "@pulumi/pulumi";

export interface TtlLoweringInputs {
    /** The records lowered, `<name> <type>` (www.example.org. A). */
    records: string[];
    /** Their TTL before the lowering (seconds): how long a resolver may hold an answer it had then. */
    fromTtl: number;
    /** Their TTL while lowered. */
    toTtl: number;
}

export interface TtlLoweringOutputs extends TtlLoweringInputs {
    /** When the records were first applied at the lowered TTL (ISO 8601). */
    loweredAt: string;
    /** From when no resolver holds an answer given at the old TTL: loweredAt + fromTtl. */
    safeAt: string;
}

function safeAfter(loweredAt: string, fromTtl: number): string {
    return new Date(Date.parse(loweredAt) + fromTtl * 1000).toISOString();
}

/**
 * Keeps loweredAt across updates: the records were lowered then, whatever changed since. A raised
 * fromTtl (the stack's TTL changed while lowered) pushes safeAt later, never earlier: what
 * resolvers cached before the lowering was cached at the higher of the two.
 */
export function lowered(inputs: TtlLoweringInputs, now: Date, before?: TtlLoweringOutputs): TtlLoweringOutputs {
    const loweredAt = before?.loweredAt ?? now.toISOString();
    const fromTtl = Math.max(inputs.fromTtl, before?.fromTtl ?? 0);
    return { ...inputs, fromTtl, loweredAt, safeAt: safeAfter(loweredAt, fromTtl) };
}

/** Whether an update is due: other records, another lowered TTL, or a higher TTL before (a lower one changes nothing). */
export function loweringChanges(olds: TtlLoweringInputs, news: TtlLoweringInputs): boolean {
    return JSON.stringify(olds.records) !== JSON.stringify(news.records) || olds.toTtl !== news.toTtl || news.fromTtl > olds.fromTtl;
}

export const ttlLoweringProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: TtlLoweringInputs) {
        return { id: "lowered", outs: lowered(inputs, new Date()) };
    },
    async read(id: string, props: TtlLoweringOutputs) {
        return { id, props };
    },
    async diff(_id: string, olds: TtlLoweringOutputs, news: TtlLoweringInputs) {
        return { changes: loweringChanges(olds, news), replaces: [], deleteBeforeReplace: false };
    },
    async update(_id: string, olds: TtlLoweringOutputs, news: TtlLoweringInputs) {
        return { outs: lowered(news, new Date(), olds) };
    },
    async delete() {
        // It only remembered a time.
    },
};
