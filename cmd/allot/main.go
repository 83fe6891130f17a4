// Command allot runs and administers an allot server: the MetaStudio tenant
// resource APIs over an embedded SQLite file or a PostgreSQL database.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/allot-dev/allot"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "allot:", errorText(err))
		}
		os.Exit(exitCode(err))
	}
}

// Main is the program with its environment made explicit, so tests run the
// real commands in-process.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Ready, when set, is called by serve with the bound addresses once
	// they accept connections (admin is empty when the management API is off).
	Ready func(addr, admin string)
}

const usage = `usage: allot <command> [flags]

commands:
  serve                 run the HTTP API
  project create        add a project (tenant)
  credential create     add an AK/SK pair for a project (--expires DURATION|RFC3339)
  credential list       list access keys (--project P), never their secrets
  credential revoke AK  revoke an access key
  token create          issue an X-Auth-Token for a project
  token list            list tokens by id (--project P), never the tokens
  token revoke ID       revoke a token by the id token list shows
  import FILE           load JSON Lines of projects, resources and assignments ('-' = stdin)
  migrate               apply database migrations and exit
  resources list        list a tenant's resources from a running server (AK/SK from ALLOT_AK/ALLOT_SK)
  assignments show      show a tenant's allocation records and overview
  config print          show the effective serve settings, secrets masked
  healthcheck           GET /readyz (--url); exit 0 on 200, else 1 (the container image's HEALTHCHECK)
  version               print the version

management (JSON in, JSON out; the same operations as the admin API):
  admin-key create      issue a management API key (--sp PROJECT for a service provider's key, --expires)
  admin-key list        list admin keys, never the keys
  admin-key revoke NAME revoke an admin key
  package add JSON      record a purchase (PURCHASED, order_id) or admin allocation (ADMIN_ALLOCATED)
  allocate JSON         a service provider allocates units of its package to a customer
  consume JSON          meter usage of a package (idempotency_key required; allow_split, user_id, app_user_id)
  consume --batch FILE  meter up to 1,000 usages, one consume per line (JSON Lines; '-': stdin)
  reserve JSON          hold units for ttl seconds (idempotency_key required); prints the reservation
  commit --reservation ID JSON   settle {"amount":N,"idempotency_key":"..."} of a hold, release the rest
  release --reservation ID       give a hold back
  reservations          --project P [--state open|committed|released|expired] [--limit N] [--offset N]
  reclaim|cancel|refund --project P --resource R JSON
  freeze|unfreeze       --project P --resource R ['{"reason":"..."}']
  asset bind|unbind     --project P --resource R ['{"asset_id":"...","asset_name":"..."}']
  ledger                --project P [--resource R] [--from T] [--to T] [--limit N] [--offset N]
                        [--csv: the whole selection as RFC 4180 CSV, a page at a time; limit and offset do not apply]
  usage                 --project P [--from T] [--to T] [--group-by day|hour] [--csv]: usage buckets (UTC)
  duration-cfg          --project P [JSON]: a tenant's voice training durations; JSON sets them (keys as ShowTenantDurationCfg)
  verify                recompute every balance from the ledger; exit 1 on any drift
  catalog import FILE   replace the spec catalog CreateMetaStudioOrders sells from (a JSON array or JSON Lines)
  catalog list          list the spec catalog (--json: as GET /admin/v1/catalog)
  webhook create JSON   add a webhook {"url","events":[...],"secret"?,"project_id"?}; shows the secret once
  webhook list|delete ID|deliveries ID [--limit N]|redeliver ID DELIVERY_ID

Every command takes --db DSN (env ALLOT_DB; default allot.db): a SQLite path,
sqlite:PATH, or postgres://..., and --config FILE (env ALLOT_CONFIG): a JSON
object of settings keyed by flag name. Precedence: flags, then ALLOT_*
environment variables, then the config file, then defaults.
Run 'allot <command> -h' for its flags.

exit status: 0 done, 1 internal error (or drift found by verify), 2 usage
error, 3 invalid request, 4 not found, 5 conflict (e.g. not enough left,
frozen, an idempotency key reused for another request), 6 forbidden.
`

// Run runs one command.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return flag.ErrHelp
	}
	cmd, rest := args[0], args[1:]
	sub := ""
	if len(rest) > 0 {
		sub = rest[0]
	}
	switch {
	case cmd == "serve":
		return m.serve(ctx, rest)
	case cmd == "migrate":
		return m.migrate(ctx, rest)
	case cmd == "import":
		return m.importFile(ctx, rest)
	case cmd == "project" && sub == "create":
		return m.createProject(ctx, rest[1:])
	case cmd == "credential" && sub == "create":
		return m.createCredential(ctx, rest[1:])
	case cmd == "token" && sub == "create":
		return m.createToken(ctx, rest[1:])
	case cmd == "admin-key" && sub == "create":
		return m.adminKeyCreate(ctx, rest[1:])
	case cmd == "credential" && sub == "list":
		return m.credentialList(ctx, rest[1:])
	case cmd == "credential" && sub == "revoke":
		return m.credentialRevoke(ctx, rest[1:])
	case cmd == "token" && sub == "list":
		return m.tokenList(ctx, rest[1:])
	case cmd == "token" && sub == "revoke":
		return m.tokenRevoke(ctx, rest[1:])
	case cmd == "admin-key" && sub == "list":
		return m.adminKeyList(ctx, rest[1:])
	case cmd == "admin-key" && sub == "revoke":
		return m.adminKeyRevoke(ctx, rest[1:])
	case cmd == "catalog" && sub == "import":
		return m.catalogImport(ctx, rest[1:])
	case cmd == "catalog" && sub == "list":
		return m.catalogList(ctx, rest[1:])
	case cmd == "ledger":
		return m.ledger(ctx, rest)
	case cmd == "verify":
		return m.verify(ctx, rest)
	case cmd == "usage":
		return m.usage(ctx, rest)
	case cmd == "duration-cfg":
		return m.durationCfg(ctx, rest)
	case cmd == "reserve":
		return m.reserve(ctx, rest)
	case cmd == "commit":
		return m.commit(ctx, rest)
	case cmd == "release":
		return m.release(ctx, rest)
	case cmd == "reservations":
		return m.reservations(ctx, rest)
	case cmd == "resources" && sub == "list":
		return m.resourcesList(ctx, rest[1:])
	case cmd == "assignments" && sub == "show":
		return m.assignmentsShow(ctx, rest[1:])
	case cmd == "healthcheck":
		return m.healthcheck(ctx, rest)
	case cmd == "version":
		return m.version(rest)
	case cmd == "webhook" && (sub == "create" || sub == "list" || sub == "delete" || sub == "deliveries" || sub == "redeliver"):
		return m.webhook(ctx, sub, rest[1:])
	case cmd == "config" && sub == "print":
		return m.configPrint(ctx, rest[1:])
	case cmd == "help" || cmd == "-h" || cmd == "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	}
	if op, ok := operations[joinFirst(args, 2)]; ok && len(args) >= 2 {
		return m.runOperation(ctx, joinFirst(args, 2), op, args[2:])
	}
	if op, ok := operations[cmd]; ok {
		return m.runOperation(ctx, cmd, op, rest)
	}
	fmt.Fprint(m.Stderr, usage)
	return usageError{fmt.Errorf("unknown command %q", joinFirst(args, 2))}
}

func joinFirst(args []string, n int) string {
	if len(args) < n {
		n = len(args)
	}
	s := ""
	for i, a := range args[:n] {
		if i > 0 {
			s += " "
		}
		s += a
	}
	return s
}

// errorText shows a domain error by its user-facing message (it names the
// parameter and the reason) and anything else as is.
func errorText(err error) string {
	var e *allot.Error
	if errors.As(err, &e) && e.Code != allot.EINTERNAL {
		return strings.Replace(err.Error(), e.Error(), e.Message, 1)
	}
	return err.Error()
}

// usageError marks errors in how a command was called (exit code 2).
type usageError struct{ error }

// exitCode is the process's exit status for err: a usage error is 2, a
// refused operation follows its error code, anything else is 1. The usage
// text and docs/admin.md document the table.
func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	switch allot.ErrorCodeOf(err) {
	case allot.EINVALID:
		return 3
	case allot.ENOTFOUND:
		return 4
	case allot.ECONFLICT:
		return 5
	case allot.EFORBIDDEN, allot.EUNAUTHENTICATED:
		return 6
	}
	return 1
}
