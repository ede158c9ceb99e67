-- wrk script: POST /items with a valid JSON body that carries one unknown field (dropped on output).
wrk.method = "POST"
wrk.path = "/items"
wrk.headers["content-type"] = "application/json"
wrk.body = '{"name":"pen","price":1.5,"tags":["office","blue"],"unknown":"dropped"}'
