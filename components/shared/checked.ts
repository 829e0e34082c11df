// Validation of component arguments, for users of the library who do not go through the stack config.
import * as pulumi from "@pulumi/pulumi";
import { ConfigValueError } from "./validate";

/** Runs a validator on a component argument; a bad value is a ResourceError naming the argument. */
export function checked<T>(resource: pulumi.Resource, arg: string, value: unknown, parse: (v: unknown) => T): T {
    try {
        return parse(value);
    } catch (err) {
        if (err instanceof ConfigValueError) {
            throw new pulumi.ResourceError(`${arg}: ${JSON.stringify(value)} is not valid: expected ${err.message}`, resource);
        }
        throw err;
    }
}
