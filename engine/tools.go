//go:build tools

// The Pulumi CLI is built from its module at the version go.mod pins (engine/build.ts runs
// `go build github.com/pulumi/pulumi/pkg/v3/cmd/pulumi`); this import keeps it in go.mod.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
