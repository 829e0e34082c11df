package langhost

import (
	"context"

	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Common is the part of the LanguageRuntime service both hosts answer alike; a host embeds it and
// adds its language's methods. A method neither defines answers Unimplemented, which the CLI takes
// as a host that predates it (sdk/go/common/resource/plugin/langruntime_plugin.go).
type Common struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	Session *Session
}

// GetPluginInfo: the host's version is the CLI's it was built with (engine/build.ts sets both).
func (c *Common) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// Handshake is how the CLI introduces itself to a host it did not start (PULUMI_DEBUG_LANGUAGES
// names the host's port): the engine's address comes here instead of on the command line. Such a
// host belongs to whoever started it, so it does not watch this engine's health.
func (c *Common) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	if addr := req.GetEngineAddress(); addr != "" {
		c.Session.setEngineAddress(addr)
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}
