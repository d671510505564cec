package storage

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	genericstorage "k8s.io/apiserver/pkg/storage"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// ErrShutdown is returned by writes that arrive after Shutdown. It is a plain error on
// purpose: Clusterpedia's synchro logs and drops the event instead of retrying forever (as it
// would for a recoverable exception).
var ErrShutdown = errors.New("memgraph storage is shut down")

// storageKey renders an object key for error messages.
func storageKey(k index.Key) string {
	return k.Cluster + "/" + k.GVR.String() + "/" + namespacedName(k.Namespace, k.Name)
}

func namespacedName(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// interpretWriteError maps engine write errors to the types Clusterpedia's synchro checks with
// unwrapped type assertions (genericstorage.IsExist / IsNotFound).
func interpretWriteError(k index.Key, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, index.ErrExists):
		return genericstorage.NewKeyExistsError(storageKey(k), 0)
	case errors.Is(err, index.ErrNotFound):
		return genericstorage.NewKeyNotFoundError(storageKey(k), 0)
	case errors.Is(err, index.ErrClosed):
		return ErrShutdown
	}
	return fmt.Errorf("memgraph: %w", err)
}

// interpretReadError maps engine query errors: invalid options are 400s.
func interpretReadError(err error) error {
	switch {
	case err == nil:
		return nil
	case index.IsInvalidQuery(err):
		return apierrors.NewBadRequest(err.Error())
	case errors.Is(err, index.ErrNotFound):
		var ke *index.KeyError
		if errors.As(err, &ke) {
			return genericstorage.NewKeyNotFoundError(storageKey(ke.Key), 0)
		}
		return genericstorage.NewKeyNotFoundError("", 0)
	}
	return err
}

// ctxErr reports a cancelled context; ctx may be nil (RecordEvent is called with nil).
func ctxErr(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	return ctx.Err()
}
