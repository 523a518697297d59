package homeserver

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	"switchboard/internal/datadir"
)

// SigningKeyFile is the name of the signing key in data_dir. Its format is
// Synapse's, one line "ed25519 <key id> <unpadded base64 seed>", so a key can
// move between Switchboard and other homeservers.
const SigningKeyFile = "signing.key"

// SigningKey is the server's ed25519 key and its id ("ed25519:a_XXXX").
type SigningKey struct {
	ID  string
	Key ed25519.PrivateKey
}

// LoadOrCreateSigningKey reads the signing key from dataDir, generating it
// (mode 0600) on first start.
func LoadOrCreateSigningKey(dataDir string) (SigningKey, error) {
	data, err := datadir.Secret(dataDir, SigningKeyFile, generateSigningKey)
	if err != nil {
		return SigningKey{}, fmt.Errorf("signing key: %w", err)
	}
	key, err := parseSigningKey(string(data))
	if err != nil {
		return SigningKey{}, fmt.Errorf("signing key %s/%s: %w; restore the original file or remove it to generate a new key", dataDir, SigningKeyFile, err)
	}
	return key, nil
}

func generateSigningKey() ([]byte, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	idBytes := make([]byte, 4)
	if _, err := rand.Read(idBytes); err != nil {
		return nil, err
	}
	for i, b := range idBytes {
		idBytes[i] = alphabet[int(b)%len(alphabet)]
	}
	line := fmt.Sprintf("ed25519 a_%s %s\n", idBytes, base64.RawStdEncoding.EncodeToString(seed))
	return []byte(line), nil
}

func parseSigningKey(data string) (SigningKey, error) {
	fields := strings.Fields(data)
	if len(fields) != 3 || fields[0] != "ed25519" {
		return SigningKey{}, fmt.Errorf(`not in the form "ed25519 <key id> <base64 seed>"`)
	}
	seed, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(fields[2], "="))
	if err != nil || len(seed) != ed25519.SeedSize {
		return SigningKey{}, fmt.Errorf("seed is not %d bytes of base64", ed25519.SeedSize)
	}
	return SigningKey{ID: "ed25519:" + fields[1], Key: ed25519.NewKeyFromSeed(seed)}, nil
}
