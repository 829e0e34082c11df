package langhost

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// missesBeforeGone is how many health checks in a row must fail before the engine counts as gone:
// one slow answer on a loaded machine is not a dead CLI.
const missesBeforeGone = 3

// watchEngine asks the engine at addr every `every` whether it is alive, through the gRPC health
// service the CLI's engine server registers (sdk/go/common/util/rpcutil.ServeWithOptions), and
// calls gone once missesBeforeGone checks in a row have failed. Any answer counts as alive,
// Unimplemented included: only an engine that does not answer at all is gone. It returns when ctx
// ends.
func watchEngine(ctx context.Context, addr string, every time.Duration, gone func(error)) {
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		// The engine is on this machine: an HTTP(S) proxy in the environment is not for it.
		grpc.WithNoProxy(),
	)
	if err != nil {
		gone(fmt.Errorf("cannot reach %s: %w", addr, err))
		return
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)

	ticker := time.NewTicker(every)
	defer ticker.Stop()
	misses := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		call, cancel := context.WithTimeout(ctx, 2*every)
		_, err := health.Check(call, &healthpb.HealthCheckRequest{})
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil || status.Code(err) == codes.Unimplemented {
			misses = 0
			continue
		}
		if misses++; misses >= missesBeforeGone {
			gone(fmt.Errorf("%d health checks in a row failed, the last with %v", misses, status.Code(err)))
			return
		}
	}
}
