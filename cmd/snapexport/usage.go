package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// summaries say what each command does, in its usage; the keys are the
// names given to newFlags.
var summaries = map[string]string{
	"init": `Create the database, an organization, a project and the owner's credentials
(an API key and a service account), and print the credentials once.`,
	"serve": `Serve the Atlas export API and run export jobs. An empty database is
initialized first, and its credentials printed once.`,
	"version": `Print the module version and the commit the program was built from.`,
	"migrate status": `Print the schema version of the database and of this program, and the
migrations that up would apply; change nothing.`,
	"migrate up": `Apply the pending schema migrations (serve and init also apply them when
they start).`,
	"snapshot import": `Import mongodump output, an archive (--archive) or the folder mongodump
--out wrote (--dir), as a completed snapshot of the cluster. An empty
archive, or a folder without any .bson or .metadata.json file, is refused
(exit status 1) and nothing is stored. A sharded cluster's snapshot is
complete once each shard is imported with the same --taken-at.`,
	"snapshot list": `List the cluster's snapshots in the order the API lists them, with their
type, frequency, status, creation and expiry times, size and consistency,
and the progress of those being taken or why those that failed failed.`,
	"snapshot show": `Show one snapshot of the cluster: its fields, its collections, and the
shards' snapshots of a sharded-cluster snapshot.`,
	"snapshot take": `Queue an on-demand snapshot of the cluster's data, as POST
.../backup/snapshots does, and print its id and status. A running
snapexport serve on the same installation takes it (this command does not):
without one it stays queued. --wait reads it every 500ms until it is
completed (exit status 0) or failed (exit status 1, with the reason).`,
	"export cancel": `Ask a queued or running export job to stop; it ends Cancelled once a
server running exports stops it. A job that has already ended is left as it
is: the command says that nothing was cancelled, and exits 0.`,
	"export watch": `Show an export job's progress until it ends, then its totals and how long
it took from creation to end. A notice says when the job has not progressed
for --stall-after. Exit status: 0 when the job ends Successful, 1 when it
ends Failed or Cancelled, 3 when --timeout passes first.`,
	"export verify": `Read a finished export back from its bucket and check it, document for
document, against the snapshot.`,
	"admin org create":            `Create an organization.`,
	"admin org list":              `List the organizations.`,
	"admin project create":        `Create a project in an organization.`,
	"admin project list":          `List an organization's projects.`,
	"admin apikey create":         `Create an API key of an organization; its private key is printed once.`,
	"admin apikey list":           `List an organization's API keys.`,
	"admin apikey delete":         `Delete an API key.`,
	"admin serviceaccount create": `Create a service account of an organization; its secret is printed once.`,
	"admin serviceaccount list":   `List an organization's service accounts.`,
	"admin serviceaccount delete": `Delete a service account.`,
	"admin role assign": `Give an API key or a service account a role on its organization, or on one
of its projects (--project).`,
	"admin role unassign": `Take a role from an API key or a service account.`,
	"admin role list":     `List the roles of an API key or a service account.`,
	"admin cluster create": `Create a cluster, a replica set or, with --shards, a sharded cluster;
with --mongodb-uri or --mongodb-uri-file, bound to that running MongoDB,
whose connection string is kept sealed with the server's secret key.`,
	"admin cluster update": `Bind a cluster to a running MongoDB (--mongodb-uri or --mongodb-uri-file),
in place of the one it was bound to, or to none (--no-mongodb-uri). The
connection string is kept sealed with the server's secret key and never
shown: the command prints the deployment's hosts and consistency.`,
	"admin cluster list": `List a project's clusters, with the hosts and consistency of the
deployments they are bound to.`,
	"admin cluster load": `Make mongodump output, an archive (--archive) or the folder mongodump --out
wrote (--dir), the cluster's current data (a shard's, with --shard), which
the on-demand snapshots taken from then on copy. The data is replaced once
the dump has been read; a dump that cannot be read leaves the previous data
(exit status 1).`,
}

// newFlags returns the flag set of the command name ("export watch"): it
// reports errors instead of exiting, and its usage names every flag.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { writeUsage(fs.Output(), fs) }
	return fs
}

// writeUsage writes a command's usage: its synopsis, what it does and
// one line per flag with its default.
func writeUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: snapexport %s [flags]\n\n", fs.Name())
	if s := summaries[fs.Name()]; s != "" {
		fmt.Fprintf(w, "%s\n\n", s)
	}
	if !hasFlags(fs) {
		return
	}
	fmt.Fprintln(w, "flags:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		kind, text := flag.UnquoteUsage(f)
		fmt.Fprintf(tw, "  %s\t%s%s\n", strings.TrimSpace("--"+f.Name+" "+kind), text, defaultNote(f, kind))
	})
	tw.Flush()
}

func hasFlags(fs *flag.FlagSet) bool {
	found := false
	fs.VisitAll(func(*flag.Flag) { found = true })
	return found
}

// defaultNote is " (default X)" for a flag whose default is not its type's
// zero value, which says nothing.
func defaultNote(f *flag.Flag, kind string) string {
	if slices.Contains([]string{"", "0", "0s", "false", "[]"}, f.DefValue) {
		return ""
	}
	if kind == "string" {
		return fmt.Sprintf(" (default %q)", f.DefValue)
	}
	return " (default " + f.DefValue + ")"
}

// helpRequest is -h or --help given to a command: run prints text on
// standard output and exits 0.
type helpRequest struct{ text string }

func (helpRequest) Error() string { return "help requested" }

// isHelp reports whether a command's first word asks for its usage.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// parse parses args and rejects stray positional arguments. A malformed
// flag prints the usage on the flag set's output.
func parse(fs *flag.FlagSet, args []string) error {
	out := fs.Output()
	fs.SetOutput(io.Discard) // the error is returned, and the usage printed, here
	err := fs.Parse(args)
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		var b strings.Builder
		writeUsage(&b, fs)
		return helpRequest{b.String()}
	case err != nil:
		fs.Usage()
		return usageError{err.Error()}
	case fs.NArg() > 0:
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// commandFailed names the command an error comes from, once.
type commandFailed struct {
	command string
	err     error
}

func (e commandFailed) Error() string { return e.command + ": " + e.err.Error() }
func (e commandFailed) Unwrap() error { return e.err }

// named attributes err, if any, to command.
func named(command string, err error) error {
	var help helpRequest
	if err == nil || errors.As(err, &help) {
		return err
	}
	return commandFailed{command, err}
}
