package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/secret"
)

// KeySource says where the master keys come from.
type KeySource struct {
	// Key is a master key in base64 or hex (ALLOT_MASTER_KEY); when set,
	// File is not read.
	Key string
	// File holds the master key (--master-key-file).
	File string
	// Old are keys from before a rotation (ALLOT_MASTER_KEY_OLD): they open,
	// never seal.
	Old []string
}

// LoadKeyring loads the master keys and checks them against what store
// holds: every sealed secret (the credentials' secret keys and the webhooks'
// signing secrets) must name a loaded master key, or the server would report
// ready and then answer every signed request with 500, or fail every
// webhook delivery.
// A missing key file is created with a fresh key only when the database
// holds no secret at all; created says it was.
func LoadKeyring(ctx context.Context, store allot.Store, src KeySource) (k *secret.Keyring, created bool, err error) {
	var current []byte
	switch {
	case src.Key != "":
		if current, err = secret.ParseKey(src.Key); err != nil {
			return nil, false, fmt.Errorf("ALLOT_MASTER_KEY: %w", err)
		}
	default:
		current, err = secret.LoadKeyFile(src.File)
		if errors.Is(err, os.ErrNotExist) {
			ids, serr := sealedKeyIDs(ctx, store, nil)
			if serr != nil {
				return nil, false, serr
			}
			if len(ids) > 0 {
				return nil, false, fmt.Errorf("master key file %s does not exist, but the database holds secret keys sealed under master key %s: "+
					"give the file that holds it with --master-key-file (env ALLOT_MASTER_KEY_FILE) or the key itself in ALLOT_MASTER_KEY; "+
					"a new key would open none of them", src.File, strings.Join(ids, ", "))
			}
			current, created, err = secret.LoadOrCreateKeyFile(src.File)
		}
		if err != nil {
			return nil, false, err
		}
	}
	var old [][]byte
	for i, s := range src.Old {
		key, err := secret.ParseKey(s)
		if err != nil {
			return nil, false, fmt.Errorf("ALLOT_MASTER_KEY_OLD[%d]: %w", i, err)
		}
		old = append(old, key)
	}
	if k, err = secret.NewKeyring(current, old...); err != nil {
		return nil, false, err
	}
	missing, err := sealedKeyIDs(ctx, store, k)
	if err != nil {
		return nil, false, err
	}
	if len(missing) > 0 {
		from := "ALLOT_MASTER_KEY"
		if src.Key == "" {
			from = "master key file " + src.File
		}
		return nil, false, fmt.Errorf("the database holds secret keys sealed under master key %s, which is not loaded (%s holds key %s): "+
			"give the key that sealed them with --master-key-file or ALLOT_MASTER_KEY, or in ALLOT_MASTER_KEY_OLD during a rotation",
			strings.Join(missing, ", "), from, k.CurrentKeyID())
	}
	return k, created, nil
}

// sealedKeyIDs returns the ids of the master keys the store's secrets
// (credentials' secret keys, webhooks' signing secrets) were sealed under
// that k does not hold (every id when k is nil), sorted.
func sealedKeyIDs(ctx context.Context, store allot.Store, k *secret.Keyring) ([]string, error) {
	probe := k
	if probe == nil {
		// A keyring of a throw-away key holds none of the ids, so every id
		// is reported.
		key, _ := secret.ParseKey(secret.NewKey())
		probe, _ = secret.NewKeyring(key)
	}
	seen := map[string]bool{}
	err := store.EachCredential(ctx, func(c allot.Credential) error {
		id, loaded := probe.SealedKeyID(c.SecretCiphertext)
		if id == "" {
			id = "(unreadable value of access key " + c.AccessKey + ")"
		}
		if !loaded {
			seen[id] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("checking the master key against the database: %w", err)
	}
	// Webhook signing secrets are sealed too: with their master key missing
	// every delivery would fail.
	hooks, err := store.ListWebhooks(ctx, "", true)
	if err != nil {
		return nil, fmt.Errorf("checking the master key against the database's webhooks: %w", err)
	}
	for _, w := range hooks {
		id, loaded := probe.SealedKeyID(w.SecretCiphertext)
		if id == "" {
			id = "(unreadable secret of webhook " + w.ID + ")"
		}
		if !loaded {
			seen[id] = true
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}
