// The comparison the test:providers tier makes between a plugin's schema and an npm SDK: against
// the installed SDK, a schema written from its own declarations agrees, and each kind of change to
// it is found.
import * as path from "path";
import { describe, expect, it } from "vitest";
import { REPO } from "./engine";
import { PackageSchema, schemaDifferences, sdkResource, sdkType } from "./sdkSchema";

const SDK = path.join(REPO, "node_modules", "@ovhcloud", "pulumi-ovh");
const MOVE = "ovh:Ip/move:Move";
const ROUTED_TO = "ovh:Ip/MoveRoutedTo:MoveRoutedTo";

/** A schema written from the SDK's own declarations of ip.Move: what a plugin in step with it serves. */
function schemaFromSdk(): PackageSchema {
    const r = sdkResource(SDK, MOVE);
    const props = (shape: Record<string, { ref?: string }>) => Object.fromEntries(Object.entries(shape).map(([k, p]) => [k, p.ref ? { $ref: `#/types/${ROUTED_TO}` } : { type: "string" }]));
    const required = (shape: Record<string, { required: boolean }>) => Object.keys(shape).filter((k) => shape[k].required);
    const inType = sdkType(SDK, ROUTED_TO, "input");
    const outType = sdkType(SDK, ROUTED_TO, "output");
    return {
        resources: { [MOVE]: { inputProperties: props(r.inputs), requiredInputs: required(r.inputs), properties: props(r.outputs), required: Object.keys(r.outputs), stateInputs: { properties: props(r.state) } } },
        types: { [ROUTED_TO]: { properties: Object.fromEntries(Object.keys({ ...inType, ...outType }).map((k) => [k, { type: "string" }])), required: required(inType) } },
    };
}

describe("a plugin's schema held to the npm SDK's declarations", () => {
    it("agrees with a schema in step with the SDK", () => {
        expect(schemaDifferences(schemaFromSdk(), SDK, MOVE)).toEqual([]);
    });

    it("finds an input the SDK lacks, a required flag that differs, and a nested type's property", () => {
        const s = schemaFromSdk();
        s.resources[MOVE].inputProperties!.extra = { type: "string" };
        s.resources[MOVE].requiredInputs = s.resources[MOVE].requiredInputs!.filter((k) => k !== "ip");
        delete s.types[ROUTED_TO].properties!.serviceName;
        expect(schemaDifferences(s, SDK, MOVE).sort()).toEqual([
            `${MOVE} inputs.extra: in the plugin's schema, not in the SDK`,
            `${MOVE} inputs.ip: optional in the plugin's schema, required in the SDK`,
            `${ROUTED_TO} (input).serviceName: in the SDK, not in the plugin's schema`,
            `${ROUTED_TO} (output).serviceName: in the SDK, not in the plugin's schema`,
        ].sort());
    });
});
