package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/secret"
	"github.com/allot-dev/allot/sign"
)

// credentialTTL bounds how long a decrypted secret key or a token is reused
// without asking the store again. Lockout is in lockout.go.
const credentialTTL = 10 * time.Second

// caller is who a request authenticated as.
type caller struct {
	projectID string
	// credential names the access key or token, for rate limiting.
	credential string
}

type authenticator struct {
	observe Observer
	logger  *slog.Logger
	store   allot.Store
	keyring *secret.Keyring
	now     func() time.Time // the allot clock: expiry and cache ages
	wall    func() time.Time // the real time: signature dates and lockouts
	maxSkew time.Duration

	lockout *lockout

	mu      sync.Mutex
	secrets map[string]cachedSecret // access key -> decrypted secret
	tokens  map[[sha256.Size]byte]cachedToken
}

type cachedSecret struct {
	projectID string
	secretKey []byte
	fetched   time.Time
	expiresAt time.Time
	seen      uint64 // the store's Revocations() when fetched (see fresh)
}

type cachedToken struct {
	token   allot.Token
	fetched time.Time
	seen    uint64
}

func newAuthenticator(store allot.Store, keyring *secret.Keyring, now, wall func() time.Time, maxSkew time.Duration, observe Observer, logger *slog.Logger) *authenticator {
	return &authenticator{
		observe: observe, logger: logger,
		store: store, keyring: keyring, now: now, wall: wall, maxSkew: maxSkew,
		lockout: newLockout(),
		secrets: make(map[string]cachedSecret),
		tokens:  make(map[[sha256.Size]byte]cachedToken),
	}
}

func unauthenticated(reason string) error {
	return &allot.Error{Code: allot.EUNAUTHENTICATED, Message: reason}
}

// authFailure is an authentication refusal with a reason label for metrics.
type authFailure struct {
	reason string
	err    error
}

func (f *authFailure) Error() string { return f.err.Error() }
func (f *authFailure) Unwrap() error { return f.err }

func fail(reason string, err error) error { return &authFailure{reason: reason, err: err} }

// authenticate checks the request's X-Auth-Token or AK/SK signature and
// counts and logs every refusal by reason.
func (a *authenticator) authenticate(r *http.Request) (caller, error) {
	var accessKey string
	c, err := a.check(r, &accessKey)
	info := infoFrom(r.Context())
	var f *authFailure
	if errors.As(err, &f) {
		a.observe.AuthFailure(f.reason)
		logAuthFailure(a.logger, r, f.reason, accessKey)
		info.auth, info.authReason, info.authMessage = "failed", f.reason, allot.ErrorMessageOf(err)
	} else if err != nil {
		info.auth, info.authReason, info.authMessage = "failed", "error", allot.ErrorMessageOf(err)
	} else if strings.HasPrefix(c.credential, "token:") {
		info.auth = "token"
	} else {
		info.auth = "aksk"
	}
	return c, err
}

// logAuthFailure logs a refused credential: the reason, the client address
// and the access key (which is not secret: it travels in clear), so an
// operator can tell guessing from a misconfigured client. Never a secret, a
// signature or a token.
func logAuthFailure(logger *slog.Logger, r *http.Request, reason, accessKey string) {
	attrs := []slog.Attr{
		slog.String("request_id", requestIDFrom(r.Context())),
		slog.String("reason", reason),
		slog.String("client_addr", r.RemoteAddr),
	}
	if accessKey != "" {
		attrs = append(attrs, slog.String("access_key", truncate(accessKey)))
	}
	logger.LogAttrs(r.Context(), slog.LevelWarn, "authentication failed", attrs...)
}

// onlyOnce refuses a credential header given more than once: which copy
// counts would otherwise depend on the reader (Get takes the first; a proxy
// in front may check the last), like a repeated X-Sdk-Date.
func onlyOnce(h http.Header, names ...string) error {
	for _, name := range names {
		if len(h.Values(name)) > 1 {
			return fail("duplicate_header", unauthenticated(name+" is given more than once; send it once"))
		}
	}
	return nil
}

// check authenticates r; *accessKey is set to the access key as soon as one
// is read, for the log.
func (a *authenticator) check(r *http.Request, accessKey *string) (caller, error) {
	if err := onlyOnce(r.Header, "Authorization", "X-Auth-Token"); err != nil {
		return caller{}, err
	}
	if token := r.Header.Get("X-Auth-Token"); token != "" {
		return a.authenticateToken(r.Context(), token)
	}
	header := r.Header.Get("Authorization")
	if header == "" {
		return caller{}, fail("missing", unauthenticated("missing credentials: sign the request with SDK-HMAC-SHA256 (Authorization and X-Sdk-Date headers) or send X-Auth-Token"))
	}
	auth, err := sign.ParseAuthorization(header)
	if err != nil {
		return caller{}, fail("malformed", unauthenticated("Authorization header: "+err.Error()))
	}
	*accessKey = auth.AccessKey
	if err := checkAccessKey(auth.AccessKey); err != nil {
		return caller{}, err
	}
	// Every SDK signs X-Sdk-Date with the real time, so the signature and
	// the lockout run on the wall clock; expiry runs on allot's clock.
	now, wall := a.now(), a.wall()
	addr := clientAddr(r)
	switch until, addressLocked, keyLocked := a.lockout.locked(auth.AccessKey, addr, wall); {
	case addressLocked:
		return caller{}, fail("locked_address", unauthenticated("this client address is locked after repeated authentication failures until "+until.UTC().Format(time.RFC3339)))
	case keyLocked:
		return caller{}, fail("locked", unauthenticated("access key is locked for this client address after repeated signature failures until "+until.UTC().Format(time.RFC3339)))
	}
	cred, err := a.secret(r.Context(), auth.AccessKey, now)
	if err != nil {
		var f *authFailure
		if errors.As(err, &f) && f.reason == "unknown_key" {
			a.lockout.unknownKey(addr, wall)
		}
		return caller{}, err
	}
	var body []byte
	if r.ContentLength != 0 { // a GET has none: skip ReadAll's buffer
		body, err = io.ReadAll(r.Body)
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return caller{}, errBodyTooLarge
		}
		return caller{}, unauthenticated("request body could not be read")
	}
	if body != nil {
		// The handler reads the body after the check: give it back.
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	if err := sign.Verify(r, body, auth, cred.secretKey, wall, a.maxSkew); err != nil {
		var serr *sign.Error
		if errors.As(err, &serr) {
			switch serr.Kind {
			case sign.KindExpired:
				return caller{}, fail("signature_expired", &allot.Error{Code: allot.ESIGEXPIRED, Message: serr.Error()})
			case sign.KindMismatch:
				a.lockout.badSignature(auth.AccessKey, addr, wall)
				return caller{}, fail("bad_signature", unauthenticated("verify aksk signature fail: "+serr.Error()))
			}
		}
		return caller{}, fail("malformed", unauthenticated(err.Error()))
	}
	a.lockout.goodSignature(auth.AccessKey, addr)
	return caller{projectID: cred.projectID, credential: "ak:" + auth.AccessKey}, nil
}

// maxAccessKeyLen bounds an access key; allot issues 20 characters.
const maxAccessKeyLen = 128

// checkAccessKey refuses, before any store lookup, an access key no
// credential can have: not printable ASCII (invalid UTF-8, control
// characters) or too long. A store would otherwise answer such a key by its
// own rules (PostgreSQL refuses invalid UTF-8 with an error), and every
// store must answer it the same way: a malformed credential.
func checkAccessKey(ak string) error {
	if len(ak) > maxAccessKeyLen {
		return fail("malformed", unauthenticated("Authorization header: Access is longer than "+strconv.Itoa(maxAccessKeyLen)+" bytes"))
	}
	for i := 0; i < len(ak); i++ {
		if c := ak[i]; c <= ' ' || c >= 0x7f {
			return fail("malformed", unauthenticated("Authorization header: Access must be printable ASCII"))
		}
	}
	return nil
}

func (a *authenticator) authenticateToken(ctx context.Context, token string) (caller, error) {
	if len(token) > 4096 {
		return caller{}, unauthenticated("X-Auth-Token is too long")
	}
	hash := sha256.Sum256([]byte(token))
	now := a.now()
	a.mu.Lock()
	cached, ok := a.tokens[hash]
	a.mu.Unlock()
	if !ok || !a.fresh(cached.fetched, cached.seen, now) {
		seen := a.store.Revocations() // before the lookup, so a revocation racing it is not missed
		t, err := a.store.FindToken(ctx, hash[:])
		if allot.ErrorCodeOf(err) == allot.ENOTFOUND {
			return caller{}, fail("unknown_token", unauthenticated("the token is unknown"))
		} else if err != nil {
			return caller{}, err
		}
		cached = cachedToken{token: t, fetched: now, seen: seen}
		a.mu.Lock()
		a.tokens[hash] = cached
		a.mu.Unlock()
	}
	if !now.Before(cached.token.ExpiresAt) {
		return caller{}, fail("expired_token", unauthenticated("the token expired at "+cached.token.ExpiresAt.UTC().Format(time.RFC3339)))
	}
	return caller{projectID: cached.token.ProjectID, credential: "token:" + hex.EncodeToString(hash[:8])}, nil
}

// secret returns the decrypted secret key of accessKey, from a short-lived
// cache so a busy key costs no store round trip and no decryption per request.
func (a *authenticator) secret(ctx context.Context, accessKey string, now time.Time) (cachedSecret, error) {
	a.mu.Lock()
	cached, ok := a.secrets[accessKey]
	a.mu.Unlock()
	if ok && a.fresh(cached.fetched, cached.seen, now) {
		return cached, expiredKey(accessKey, cached.expiresAt, now)
	}
	seen := a.store.Revocations() // before the lookup, so a revocation racing it is not missed
	cred, err := a.store.FindCredential(ctx, accessKey)
	if allot.ErrorCodeOf(err) == allot.ENOTFOUND {
		return cachedSecret{}, fail("unknown_key", unauthenticated("the access key is unknown"))
	} else if err != nil {
		return cachedSecret{}, err
	}
	sk, err := a.keyring.Open(cred.SecretCiphertext, []byte(cred.AccessKey))
	if err != nil {
		return cachedSecret{}, &allot.Error{Code: allot.EINTERNAL, Message: "secret key does not decrypt", Err: err}
	}
	cached = cachedSecret{projectID: cred.ProjectID, secretKey: sk, fetched: now, expiresAt: cred.ExpiresAt, seen: seen}
	a.mu.Lock()
	a.secrets[accessKey] = cached
	a.mu.Unlock()
	return cached, expiredKey(accessKey, cached.expiresAt, now)
}

// tenant wraps a handler of the /v1/{project_id}/ API: it authenticates the
// caller and refuses a credential of one project used on another's path.
func (s *Server) tenant(h func(http.ResponseWriter, *http.Request, string)) http.Handler {
	return s.tenantAs(func(w http.ResponseWriter, r *http.Request, c caller) { h(w, r, c.projectID) })
}

// tenantAs is tenant for a handler that also needs the credential (a
// write names it in its ledger entries).
func (s *Server) tenantAs(h func(http.ResponseWriter, *http.Request, caller)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.auth.authenticate(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		infoFrom(r.Context()).projectID = c.projectID
		if err := s.limit.allow(c.credential); err != nil {
			s.writeError(w, r, err)
			return
		}
		pathProject := r.PathValue("project_id")
		if pathProject != c.projectID {
			s.cfg.Observer.AuthFailure("project_mismatch")
			s.writeError(w, r, allot.Errorf(allot.EFORBIDDEN, "urlTenantId is not equal tokenTenantId"))
			return
		}
		if hp := r.Header.Values("X-Project-Id"); len(hp) > 0 && (len(hp) != 1 || hp[0] != pathProject) {
			s.cfg.Observer.AuthFailure("project_mismatch")
			s.writeError(w, r, allot.Errorf(allot.EFORBIDDEN, "urlTenantId is not equal tokenTenantId: X-Project-Id does not match the project in the URL"))
			return
		}
		h(w, r, c)
	})
}

// handleIAMProjects answers IAM's "list projects" (GET /v3/projects?name=REGION)
// for a signed request with the caller's own project, so SDK clients that set
// no project id can discover it the way they do against IAM.
func (s *Server) handleIAMProjects(w http.ResponseWriter, r *http.Request) {
	c, err := s.auth.authenticate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	infoFrom(r.Context()).projectID = c.projectID
	p, err := s.cfg.Store.FindProject(r.Context(), c.projectID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	type project struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Enabled  bool   `json:"enabled"`
		DomainID string `json:"domain_id"`
		ParentID string `json:"parent_id"`
	}
	out := struct {
		Projects []project `json:"projects"`
	}{Projects: []project{}}
	if name := r.URL.Query().Get("name"); name == "" || name == p.RegionID {
		out.Projects = append(out.Projects, project{ID: p.ID, Name: p.RegionID, Enabled: true, DomainID: p.ID, ParentID: p.ID})
	}
	s.writeJSON(w, http.StatusOK, out)
}
