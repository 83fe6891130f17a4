package apitest

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	metastudio "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/app"
	"github.com/allot-dev/allot/secret"
	"github.com/allot-dev/allot/sign"
)

// env is one running allot, built by the wiring 'allot serve' uses
// (internal/app), over a store loaded with the fixture.
type env struct {
	t       *testing.T
	app     *app.App
	store   allot.Store
	url     string
	keyring *secret.Keyring
	fx      *fixture
}

func start(t *testing.T, open func(t *testing.T) allot.Store, options ...func(*app.Config)) *env {
	t.Helper()
	key, err := secret.ParseKey(secret.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	keyring, err := secret.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	store := open(t)
	fx := newFixture()
	if err := store.Import(context.Background(), fx.batch); err != nil {
		t.Fatalf("import fixture: %v", err)
	}
	cfg := app.Config{Store: store, Keyring: keyring, Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0"}
	for _, o := range options {
		o(&cfg)
	}
	a, err := app.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	return &env{t: t, app: a, store: a.Store, url: a.TenantURL(), keyring: keyring, fx: fx}
}

// credential creates an AK/SK pair for project the way the CLI does.
func (e *env) credential(t testing.TB, project string) (ak, sk string) {
	t.Helper()
	ak = "AK" + strings.ToUpper(strconv.FormatInt(time.Now().UnixNano(), 36))
	sk = "secret-of-" + ak
	c, err := app.SealCredential(e.keyring, project, ak, sk, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateCredential(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return ak, sk
}

func (e *env) token(t testing.TB, project string, expires time.Time) string {
	t.Helper()
	tok := "tok-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	hash := sha256.Sum256([]byte(tok))
	if err := e.store.CreateToken(context.Background(), allot.Token{Hash: hash[:], ProjectID: project, ExpiresAt: expires, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return tok
}

// sdk returns an official SDK client signing as ak/sk for project.
func (e *env) sdk(t testing.TB, ak, sk, project string) *metastudio.MetaStudioClient {
	t.Helper()
	creds, err := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(project).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	hc, err := metastudio.MetaStudioClientBuilder().
		WithEndpoints([]string{e.url}).
		WithCredential(creds).
		WithHttpConfig(config.DefaultHttpConfig().WithTimeout(10 * time.Second)).
		SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	return metastudio.NewMetaStudioClient(hc)
}

// get sends a plain HTTP GET with the given headers.
func (e *env) get(t testing.TB, path string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	return e.do(t, req)
}

func (e *env) do(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// signedGet sends a GET signed with allot's own signer.
func (e *env) signedGet(t testing.TB, path, ak, sk string, at time.Time, extra http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range extra {
		req.Header[k] = v
	}
	if err := sign.Sign(req, nil, ak, []byte(sk), at); err != nil {
		t.Fatal(err)
	}
	return e.do(t, req)
}

// serviceError asserts err is the SDK's error for status and code, with a
// message containing each of contains and a request id.
func serviceError(t *testing.T, err error, status int, code string, contains ...string) {
	t.Helper()
	var se *sdkerr.ServiceResponseError
	if !errors.As(err, &se) {
		t.Fatalf("got error %v (%T), want a service error %d %s", err, err, status, code)
	}
	if se.StatusCode != status || se.ErrorCode != code {
		t.Fatalf("got %d %s (%q), want %d %s", se.StatusCode, se.ErrorCode, se.ErrorMessage, status, code)
	}
	for _, c := range contains {
		if !strings.Contains(se.ErrorMessage, c) {
			t.Fatalf("error message %q does not mention %q", se.ErrorMessage, c)
		}
	}
	if se.RequestId == "" {
		t.Fatal("error response has no X-Request-Id")
	}
}

// decimal formats a quantity independently of allot.Quantity's own
// formatting: the exact decimal, trailing zeros removed.
func decimal(q allot.Quantity) string {
	s := big.NewRat(int64(q), allot.QuantityScale).FloatString(allot.QuantityDecimals)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func float32Of(q allot.Quantity) float32 {
	f, err := strconv.ParseFloat(decimal(q), 32)
	if err != nil {
		panic(err)
	}
	return float32(f)
}
