-- wrk script: every request asks the server to close the connection, so that each one opens a new
-- connection (wrk's -H needs "Name: value", a space, which run.sh's argument lists cannot carry).
wrk.headers["Connection"] = "close"
