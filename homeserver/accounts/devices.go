package accounts

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/homeserver/mxhttp"
)

const (
	// maxDeviceIDBytes bounds client-chosen device ids.
	maxDeviceIDBytes = 255
	// maxDeviceNameLength bounds device display names, in characters.
	maxDeviceNameLength = 100
	// generatedDeviceIDLength is the length of server-chosen device ids:
	// upper-case letters, like other servers'.
	generatedDeviceIDLength = 10
)

const (
	insertDeviceQuery = `
		INSERT INTO hs_devices (user_id, device_id, display_name, created_ts) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id, device_id) DO NOTHING`
	listDevicesQuery = `
		SELECT device_id, display_name, last_seen_ip, last_seen_ts FROM hs_devices
		WHERE user_id = $1 ORDER BY created_ts, device_id`
	getDeviceQuery = `
		SELECT device_id, display_name, last_seen_ip, last_seen_ts FROM hs_devices
		WHERE user_id = $1 AND device_id = $2`
	renameDeviceQuery       = `UPDATE hs_devices SET display_name = $3 WHERE user_id = $1 AND device_id = $2`
	deleteDeviceQuery       = `DELETE FROM hs_devices WHERE user_id = $1 AND device_id = $2`
	deleteUserTokensQuery   = `DELETE FROM hs_access_tokens WHERE user_id = $1`
	deleteUserDevicesQuery  = `DELETE FROM hs_devices WHERE user_id = $1`
	deleteOtherTokensQuery  = `DELETE FROM hs_access_tokens WHERE user_id = $1 AND device_id <> $2`
	deleteOtherDevicesQuery = `DELETE FROM hs_devices WHERE user_id = $1 AND device_id <> $2`
)

// device is one row of GET /devices.
type device struct {
	DeviceID    id.DeviceID `json:"device_id"`
	DisplayName *string     `json:"display_name,omitempty"`
	LastSeenIP  string      `json:"last_seen_ip,omitempty"`
	LastSeenTS  int64       `json:"last_seen_ts,omitempty"`
}

func scanDevice(row interface{ Scan(...any) error }) (device, error) {
	var (
		d    device
		name sql.NullString
		ip   sql.NullString
		ts   sql.NullInt64
	)
	if err := row.Scan(&d.DeviceID, &name, &ip, &ts); err != nil {
		return device{}, err
	}
	if name.Valid {
		d.DisplayName = &name.String
	}
	d.LastSeenIP, d.LastSeenTS = ip.String, ts.Int64
	return d, nil
}

// withCachedLastSeen brings d's last-seen fields up to what the token
// cache has seen since they were last written.
func (a *Accounts) withCachedLastSeen(user id.UserID, d device) device {
	if ts, ip := a.tokens.lastSeen(user, d.DeviceID); ts > d.LastSeenTS {
		d.LastSeenTS = ts
		if ip != "" {
			d.LastSeenIP = ip
		}
	}
	return d
}

// insertDevice adds a device unless userID already has one with that id,
// and reports whether it did.
func (a *Accounts) insertDevice(ctx context.Context, userID id.UserID, deviceID id.DeviceID, displayName string) (bool, error) {
	name := sql.NullString{String: displayName, Valid: displayName != ""}
	res, err := a.db.Exec(ctx, insertDeviceQuery, userID, deviceID, name, nowMS())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// insertNewDevice adds a device with a generated id.
func (a *Accounts) insertNewDevice(ctx context.Context, userID id.UserID, displayName string) (id.DeviceID, error) {
	for range 5 {
		deviceID := generateDeviceID()
		added, err := a.insertDevice(ctx, userID, deviceID, displayName)
		if err != nil {
			return "", err
		}
		if added {
			return deviceID, nil
		}
	}
	return "", errors.New("no free device id after 5 attempts")
}

func generateDeviceID() id.DeviceID {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, generatedDeviceIDLength)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return id.DeviceID(b)
}

// validDeviceID reports whether a client-chosen device id can be stored.
func validDeviceID(deviceID string) bool {
	return deviceID != "" && validText(deviceID, maxDeviceIDBytes)
}

func validDeviceName(name string) bool {
	return utf8.RuneCountInString(name) <= maxDeviceNameLength && validText(name, 4*maxDeviceNameLength)
}

// deleteDevices deletes devices of userID and their access tokens. Devices
// that do not exist are skipped.
func (a *Accounts) deleteDevices(ctx context.Context, userID id.UserID, deviceIDs []id.DeviceID) error {
	err := a.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		for _, deviceID := range deviceIDs {
			if _, err := a.db.Exec(ctx, deleteDeviceTokensQuery, userID, deviceID); err != nil {
				return err
			}
			if _, err := a.db.Exec(ctx, deleteDeviceQuery, userID, deviceID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete devices of %s: %w", userID, err)
	}
	for _, deviceID := range deviceIDs {
		a.tokens.evictDevice(userID, deviceID)
	}
	return nil
}

// deleteAllDevices deletes every device of userID but keep (none when
// empty), with their access tokens.
func (a *Accounts) deleteAllDevices(ctx context.Context, userID id.UserID, keep id.DeviceID) error {
	err := a.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if keep == "" {
			if _, err := a.db.Exec(ctx, deleteUserTokensQuery, userID); err != nil {
				return err
			}
			_, err := a.db.Exec(ctx, deleteUserDevicesQuery, userID)
			return err
		}
		if _, err := a.db.Exec(ctx, deleteOtherTokensQuery, userID, keep); err != nil {
			return err
		}
		_, err := a.db.Exec(ctx, deleteOtherDevicesQuery, userID, keep)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete devices of %s: %w", userID, err)
	}
	a.tokens.evictUser(userID, keep)
	return nil
}

func (a *Accounts) handleListDevices(w http.ResponseWriter, r *http.Request) {
	ident := identity(r)
	rows, err := a.db.Query(r.Context(), listDevicesQuery, ident.UserID)
	if err != nil {
		a.fail(w, r, fmt.Errorf("list devices: %w", err))
		return
	}
	devices := []device{}
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			rows.Close()
			a.fail(w, r, fmt.Errorf("list devices: %w", err))
			return
		}
		devices = append(devices, d)
	}
	if err := rows.Close(); err != nil {
		a.fail(w, r, fmt.Errorf("list devices: %w", err))
		return
	}
	if err := rows.Err(); err != nil {
		a.fail(w, r, fmt.Errorf("list devices: %w", err))
		return
	}
	for i := range devices {
		devices[i] = a.withCachedLastSeen(ident.UserID, devices[i])
	}
	mxhttp.WriteJSON(w, http.StatusOK, map[string]any{"devices": devices})
}

// getDevice returns one device of userID; found is false when there is
// none.
func (a *Accounts) getDevice(ctx context.Context, userID id.UserID, deviceID string) (d device, found bool, err error) {
	if !validDeviceID(deviceID) {
		return device{}, false, nil
	}
	d, err = scanDevice(a.db.QueryRow(ctx, getDeviceQuery, userID, deviceID))
	if errors.Is(err, sql.ErrNoRows) {
		return device{}, false, nil
	} else if err != nil {
		return device{}, false, fmt.Errorf("get device: %w", err)
	}
	return a.withCachedLastSeen(userID, d), true, nil
}

var errUnknownDevice = mautrix.MNotFound.WithMessage("You have no device with that id")

func (a *Accounts) handleGetDevice(w http.ResponseWriter, r *http.Request) {
	d, found, err := a.getDevice(r.Context(), identity(r).UserID, r.PathValue("deviceId"))
	switch {
	case err != nil:
		a.fail(w, r, err)
	case !found:
		a.fail(w, r, errUnknownDevice)
	default:
		mxhttp.WriteJSON(w, http.StatusOK, d)
	}
}

// handlePutDevice renames a device. An appservice may also create a device
// for one of its users this way (201), as spec v1.17 allows.
func (a *Accounts) handlePutDevice(w http.ResponseWriter, r *http.Request) {
	ident := identity(r)
	var req struct {
		DisplayName *string `json:"display_name"`
	}
	if err := mxhttp.ReadJSON(r, &req, 0); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.DisplayName != nil && !validDeviceName(*req.DisplayName) {
		a.fail(w, r, mautrix.MInvalidParam.WithMessage("display_name: at most %d characters, no control characters", maxDeviceNameLength))
		return
	}
	deviceID := r.PathValue("deviceId")
	_, found, err := a.getDevice(r.Context(), ident.UserID, deviceID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if !found {
		if ident.AppserviceID == "" || !validDeviceID(deviceID) {
			a.fail(w, r, errUnknownDevice)
			return
		}
		name := ""
		if req.DisplayName != nil {
			name = *req.DisplayName
		}
		if _, err := a.insertDevice(r.Context(), ident.UserID, id.DeviceID(deviceID), name); err != nil {
			a.fail(w, r, fmt.Errorf("create device: %w", err))
			return
		}
		mxhttp.WriteJSON(w, http.StatusCreated, struct{}{})
		return
	}
	if req.DisplayName != nil {
		name := sql.NullString{String: *req.DisplayName, Valid: *req.DisplayName != ""}
		if _, err := a.db.Exec(r.Context(), renameDeviceQuery, ident.UserID, deviceID, name); err != nil {
			a.fail(w, r, fmt.Errorf("rename device: %w", err))
			return
		}
	}
	ok(w)
}

func (a *Accounts) handleDeleteDevice(w http.ResponseWriter, r *http.Request) {
	ident := identity(r)
	var req struct {
		Auth rawAuth `json:"auth"`
	}
	if err := mxhttp.ReadJSON(r, &req, 0); err != nil {
		a.fail(w, r, err)
		return
	}
	deviceID := r.PathValue("deviceId")
	// Appservices manage their users' devices without UIA (spec v1.17).
	if ident.AppserviceID == "" && !a.interactiveAuth(w, r, req.Auth, uiaDeleteDevices, ident.UserID, passwordFlows) {
		return
	}
	if validDeviceID(deviceID) {
		if err := a.deleteDevices(r.Context(), ident.UserID, []id.DeviceID{id.DeviceID(deviceID)}); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	ok(w)
}

func (a *Accounts) handleDeleteDevices(w http.ResponseWriter, r *http.Request) {
	ident := identity(r)
	var req struct {
		Devices *[]string `json:"devices"`
		Auth    rawAuth   `json:"auth"`
	}
	if err := mxhttp.ReadJSON(r, &req, 0); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.Devices == nil {
		a.fail(w, r, errMissingParam.WithMessage("devices: missing; list the device ids to delete"))
		return
	}
	if ident.AppserviceID == "" && !a.interactiveAuth(w, r, req.Auth, uiaDeleteDevices, ident.UserID, passwordFlows) {
		return
	}
	ids := make([]id.DeviceID, 0, len(*req.Devices))
	for _, d := range *req.Devices {
		if validDeviceID(d) {
			ids = append(ids, id.DeviceID(d))
		}
	}
	if err := a.deleteDevices(r.Context(), ident.UserID, ids); err != nil {
		a.fail(w, r, err)
		return
	}
	ok(w)
}

// checkNewDevice checks the device id and name a client proposes when it
// logs in or registers.
func checkNewDevice(deviceID, displayName string) error {
	if deviceID != "" && !validDeviceID(deviceID) {
		return mautrix.MInvalidParam.WithMessage("device_id: at most %d bytes, no control characters", maxDeviceIDBytes)
	}
	if !validDeviceName(displayName) {
		return mautrix.MInvalidParam.WithMessage("initial_device_display_name: at most %d characters, no control characters", maxDeviceNameLength)
	}
	return nil
}
