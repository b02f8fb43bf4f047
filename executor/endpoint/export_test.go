package endpoint

// ServeEngineOn is ServeEngine on a listener the test chose.
var ServeEngineOn = serveEngine
