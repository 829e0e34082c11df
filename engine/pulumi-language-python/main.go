// pulumi-language-python: the Python language host of this project, which the Pulumi CLI built by
// engine/build.ts finds beside itself and starts for a project of runtime python, so that a Python
// program can use the components through their plugin package.
//
// Pulumi publishes its own host as a Go module of its own, which the Go module proxy this project
// builds from does not serve; this one is written from the language host protocol
// (pulumirpc.LanguageRuntime in github.com/pulumi/pulumi/sdk/v3/proto/go), with the served
// github.com/pulumi/pulumi/pkg/v3 for code generation. What it answers:
//   - GeneratePackage: a Python SDK from a package schema, by pkg/v3/codegen/python (what
//     `pulumi package add` and `pulumi package gen-sdk` ask for);
//   - Link: the generated SDK's folder added to the program's requirements.txt;
//   - InstallDependencies: `python -m pip install -r requirements.txt` with the project's Python,
//     pip's settings (PIP_*) taken from the environment;
//   - Run: runner.py (embedded in the binary) with the project's Python: it configures the
//     `pulumi` package from PyPI with the run's settings and runs the program inside the stack;
//   - GetPluginInfo, Handshake: engine/langhost.
//
// The project's Python is <virtualenv>/bin/python when the runtime option virtualenv names one
// (relative to the project's folder), else python3 on the PATH.
//
// The rest answers Unimplemented, which the CLI takes as an older host: GetRequiredPackages and
// GetRequiredPlugins (the engine then loads each provider when a resource needs it), About,
// GetProgramDependencies, GenerateProject, GenerateProgram, Pack, RunPlugin (a plugin written in
// Python).
//
// Every process this host starts is a langhost.Child: it goes, with whatever it started, when the
// CLI's call ends or the host does (and the host ends when the engine stops answering).
package main

import (
	_ "embed"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"ovh-failover/engine/langhost"
)

//go:embed runner.py
var runnerSource string

// runnerNoSDK is runner.py's exit code when the project's Python cannot import pulumi (its
// NO_SDK); langhost.ExitReported is its code for an error it has reported to the engine.
const runnerNoSDK = 97

func main() {
	langhost.Main(func(s *langhost.Session) pulumirpc.LanguageRuntimeServer {
		return &pythonHost{Common: langhost.Common{Session: s}}
	})
}

type pythonHost struct {
	langhost.Common
}

// projectPython is the Python a project's code runs with.
func projectPython(info *pulumirpc.ProgramInfo) (string, error) {
	venv, named := info.GetOptions().AsMap()["virtualenv"]
	if !named {
		python, err := exec.LookPath("python3")
		if err != nil {
			return "", fmt.Errorf("python3 is not on the language host's PATH (%s), and the project names no virtualenv (runtime option virtualenv)", os.Getenv("PATH"))
		}
		return python, nil
	}
	dir, isString := venv.(string)
	if !isString {
		return "", fmt.Errorf("the python runtime option virtualenv is %v (%T) in the project file; it takes the virtualenv's folder", venv, venv)
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(info.GetRootDirectory(), dir)
	}
	python := filepath.Join(dir, "bin", "python")
	if _, err := os.Stat(python); err != nil {
		return "", fmt.Errorf("the project's virtualenv %s has no bin/python: create it (python3 -m venv %s), then run pulumi install", dir, dir)
	}
	return python, nil
}

func (h *pythonHost) GeneratePackage(ctx context.Context, req *pulumirpc.GeneratePackageRequest) (*pulumirpc.GeneratePackageResponse, error) {
	var spec schema.PackageSpec
	if err := json.Unmarshal([]byte(req.GetSchema()), &spec); err != nil {
		return nil, fmt.Errorf("the package schema the CLI sent is not valid JSON: %w", err)
	}
	client, err := schema.NewLoaderClient(req.GetLoaderTarget())
	if err != nil {
		return nil, fmt.Errorf("cannot reach the CLI's schema loader at %s: %w", req.GetLoaderTarget(), err)
	}
	defer client.Close()
	// One loader for binding and generating: a schema another refers to is fetched once.
	loader := schema.NewCachedLoader(client)
	pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{AllowDanglingReferences: true})
	if err != nil {
		return nil, fmt.Errorf("the schema of package %s does not bind: %w", spec.Name, err)
	}
	answer := &pulumirpc.GeneratePackageResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}
	if diags.HasErrors() {
		return answer, nil
	}
	files, err := python.GeneratePackage("pulumi-language-python", pkg, req.GetExtraFiles(), loader)
	if err != nil {
		return nil, fmt.Errorf("generating the Python SDK of %s: %w", spec.Name, err)
	}
	if err := writeTree(req.GetDirectory(), files); err != nil {
		return nil, err
	}
	return answer, nil
}

// writeTree writes files (paths relative to dir) under dir, in the order of their names.
func writeTree(dir string, files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		out := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
			return fmt.Errorf("writing the generated SDK into %s: %w", dir, err)
		}
		if err := os.WriteFile(out, files[name], 0o600); err != nil {
			return fmt.Errorf("writing the generated SDK into %s: %w", dir, err)
		}
	}
	return nil
}

// Link makes each generated SDK a requirement of the program: its folder, relative to the
// program's, becomes a line of requirements.txt (unless one already names it), which pip installs
// on the next `pulumi install`.
func (h *pythonHost) Link(ctx context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	file := filepath.Join(req.GetInfo().GetProgramDirectory(), "requirements.txt")
	text, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading the program's requirements: %w", err)
	}
	lines := strings.Split(strings.TrimRight(string(text), "\n"), "\n")
	if len(text) == 0 {
		lines = nil
	}
	listed := map[string]bool{}
	for _, l := range lines {
		listed[strings.TrimSpace(l)] = true
	}
	var imports []string
	for _, p := range req.GetPackages() {
		requirement := filepath.ToSlash(p.GetPath())
		if !filepath.IsAbs(requirement) && !strings.HasPrefix(requirement, ".") {
			// pip takes a bare folder name for a project on PyPI; "./" makes it a path.
			requirement = "./" + requirement
		}
		if !listed[requirement] {
			lines = append(lines, requirement)
			listed[requirement] = true
		}
		// pkg/codegen/python's module for a package without a moduleName: pulumi_<name>.
		imports = append(imports, "  import pulumi_"+strings.ReplaceAll(p.GetPackage().GetName(), "-", "_"))
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("writing the program's requirements: %w", err)
	}
	return &pulumirpc.LinkResponse{
		ImportInstructions: "The program can now import the SDK:\n\n" + strings.Join(imports, "\n") + "\n",
	}, nil
}

func (h *pythonHost) InstallDependencies(req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer) error {
	streams, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer streams.Close()
	info := req.GetInfo()
	dir := info.GetProgramDirectory()
	if _, err := os.Stat(filepath.Join(dir, "requirements.txt")); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stdout, "%s has no requirements.txt: nothing to install\n", dir)
		return streams.Close()
	}
	python, err := projectPython(info)
	if err != nil {
		return err
	}
	pip := h.Session.Child(server.Context(), python, "-m", "pip", "install", "-r", "requirements.txt")
	pip.Cmd.Dir = dir
	pip.Cmd.Stdout, pip.Cmd.Stderr = stdout, stderr
	fmt.Fprintf(stdout, "%s: %s -m pip install -r requirements.txt\n", dir, python)
	if err := pip.Failure("pip ("+python+" -m pip install -r requirements.txt)", pip.Execute()); err != nil {
		return err
	}
	return streams.Close()
}

// runSettings is what runner.py takes as its first argument, as JSON: the run's settings for
// pulumi.runtime.Settings, and the folder to run the program in.
type runSettings struct {
	Monitor       string `json:"monitor"`
	Engine        string `json:"engine,omitempty"`
	Project       string `json:"project"`
	Stack         string `json:"stack"`
	Organization  string `json:"organization,omitempty"`
	RootDirectory string `json:"root_directory,omitempty"`
	Parallel      int32  `json:"parallel"`
	DryRun        bool   `json:"dry_run"`
	Workdir       string `json:"workdir,omitempty"`
}

func (h *pythonHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	failed := func(err error) (*pulumirpc.RunResponse, error) {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	info := req.GetInfo()
	python, err := projectPython(info)
	if err != nil {
		return failed(err)
	}
	settings, err := json.Marshal(runSettings{
		Monitor:       req.GetMonitorAddress(),
		Engine:        h.Session.EngineAddress(),
		Project:       req.GetProject(),
		Stack:         req.GetStack(),
		Organization:  req.GetOrganization(),
		RootDirectory: info.GetRootDirectory(),
		Parallel:      req.GetParallel(),
		DryRun:        req.GetDryRun(),
		Workdir:       info.GetProgramDirectory(),
	})
	if err != nil {
		return failed(err)
	}
	config := req.GetConfig()
	if config == nil {
		config = map[string]string{}
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	configJSON, err := json.Marshal(config)
	if err != nil {
		return failed(err)
	}
	secretsJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return failed(err)
	}

	// The entry point "." (a project without main) is the program's folder, run by its
	// __main__.py.
	program := filepath.Join(info.GetProgramDirectory(), info.GetEntryPoint())
	args := append([]string{"-u", "-c", runnerSource, string(settings), program}, req.GetArgs()...)
	child := h.Session.Child(ctx, python, args...)
	child.Cmd.Dir = req.GetPwd()
	// The stack's config as the pulumi package reads it: "<namespace>:<key>" to the value's text.
	child.Cmd.Env = append(os.Environ(), "PULUMI_CONFIG="+string(configJSON), "PULUMI_CONFIG_SECRET_KEYS="+string(secretsJSON))
	child.Cmd.Stdout, child.Cmd.Stderr = langhost.HostOutput()
	runErr := child.Execute()
	if code, exited := langhost.ExitCode(runErr); exited && code == runnerNoSDK && child.Stopped() == nil {
		return failed(fmt.Errorf("the project's Python (%s) cannot import pulumi: add pulumi to the program's requirements.txt and run pulumi install", python))
	}
	return child.RunResult("the Python program "+program, runErr), nil
}
