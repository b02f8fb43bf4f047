// Folder layout of logs and resources under the state folder.

package executor

import (
	"path/filepath"
)

// LogPaths returns where the local worker writes an attempt's streams.
func LogPaths(stateDir, pipelineID, attemptID string) (stdout, stderr string) {
	dir := filepath.Join(stateDir, "logs", pipelineID, attemptID)
	return filepath.Join(dir, "stdout"), filepath.Join(dir, "stderr")
}

// ResourceDir is the working folder of a resource instance.
func ResourceDir(stateDir, pipelineID, resourceInstanceID string) string {
	return filepath.Join(stateDir, "resources", pipelineID, resourceInstanceID)
}
