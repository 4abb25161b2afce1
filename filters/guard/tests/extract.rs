//! Extraction from every supported format, malformed bodies, limits and content types.

use portcullis_guard::{extract, parse_k8s_path, ExtractError, ExtractOptions, Extracted, Format, K8sVerb, Role};
use portcullis_policy::guard::{FormatHint, OtherContent, OtherContentAction};

const JSON: &str = "application/json";

fn read(content_type: &str, path: &str, body: &str) -> Extracted {
    extract(content_type, "POST", path, body.as_bytes(), &ExtractOptions::default()).unwrap()
}

/// `(field, role, latest, text)` of every segment.
fn segments(e: &Extracted) -> Vec<(String, Role, bool, String)> {
    e.texts.iter().map(|s| (s.field.clone(), s.role, s.latest, s.text.clone())).collect()
}

fn seg(field: &str, role: Role, latest: bool, text: &str) -> (String, Role, bool, String) {
    (field.to_owned(), role, latest, text.to_owned())
}

#[test]
fn openai_chat() {
    let e = read(JSON, "/v1/chat/completions", r#"{"model":"gpt-4o","messages":[
        {"role":"system","content":"Be brief."},
        {"role":"user","content":[{"type":"text","text":"Look:"},{"type":"image_url","image_url":{"url":"data:x"}}]},
        {"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function","function":{"name":"sh","arguments":"{\"cmd\":\"ls\"}"}}]},
        {"role":"tool","tool_call_id":"1","content":"a.txt"},
        {"role":"user","content":"thanks"}]}"#);
    assert_eq!(e.kind, Format::OpenaiChat);
    assert_eq!(e.model.as_deref(), Some("gpt-4o"));
    assert_eq!(
        segments(&e),
        [
            seg("messages[0].content", Role::System, false, "Be brief."),
            seg("messages[1].content[0].text", Role::User, false, "Look:"),
            seg("messages[2].tool_calls[0].function.arguments", Role::Assistant, false, "{\"cmd\":\"ls\"}"),
            seg("messages[3].content", Role::Tool, true, "a.txt"),
            seg("messages[4].content", Role::User, true, "thanks"),
        ]
    );
}

#[test]
fn openai_responses_and_completions() {
    let e = read(JSON, "/v1/responses", r#"{"model":"o3","instructions":"Be nice","input":"hello"}"#);
    assert_eq!(e.kind, Format::OpenaiResponses);
    assert_eq!(segments(&e), [seg("instructions", Role::System, true, "Be nice"), seg("input", Role::User, true, "hello")]);

    let e = read(JSON, "/v1/responses", r#"{"input":[
        {"role":"user","content":[{"type":"input_text","text":"list files"}]},
        {"type":"function_call","name":"sh","arguments":"{\"cmd\":\"ls\"}","call_id":"c"},
        {"type":"function_call_output","call_id":"c","output":"a.txt"},
        {"type":"reasoning","summary":[]}]}"#);
    assert_eq!(
        segments(&e),
        [
            seg("input[0].content[0].text", Role::User, false, "list files"),
            seg("input[1].arguments", Role::Assistant, false, "{\"cmd\":\"ls\"}"),
            seg("input[2].output", Role::Tool, true, "a.txt"),
        ]
    );

    let e = read(JSON, "/v1/completions", r#"{"model":"x","prompt":["one","two"],"suffix":"end"}"#);
    assert_eq!(e.kind, Format::OpenaiCompletions);
    assert_eq!(e.texts.iter().map(|s| s.text.as_str()).collect::<Vec<_>>(), ["one", "two", "end"]);
    let e = read(JSON, "/v1/embeddings", r#"{"input":[[1,2,3]]}"#);
    assert!(e.texts.is_empty());
}

#[test]
fn anthropic_messages() {
    let e = read(JSON, "/v1/messages", r#"{"model":"claude","system":[{"type":"text","text":"Sys"}],"messages":[
        {"role":"user","content":"hi"},
        {"role":"assistant","content":[{"type":"text","text":"running"},{"type":"tool_use","id":"t","name":"bash","input":{"command":"ls -la","args":["-l","/"]}}]},
        {"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"out"}]},
                                  {"type":"document","source":{"type":"text","media_type":"text/plain","data":"doc body"}}]}]}"#);
    assert_eq!(e.kind, Format::AnthropicMessages);
    assert_eq!(
        segments(&e),
        [
            seg("system[0].text", Role::System, true, "Sys"),
            seg("messages[0].content", Role::User, false, "hi"),
            seg("messages[1].content[0].text", Role::Assistant, false, "running"),
            seg("messages[1].content[1].input.args", Role::Assistant, false, "-l /"),
            seg("messages[1].content[1].input.command", Role::Assistant, false, "ls -la"),
            seg("messages[2].content[0].content[0].text", Role::Tool, true, "out"),
            seg("messages[2].content[1].source.data", Role::User, true, "doc body"),
        ]
    );
}

#[test]
fn mcp_tools_call_and_batches() {
    let e = read(JSON, "/mcp", r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"run_sql","arguments":{"query":"DROP TABLE x","argv":["rm","-rf","/"]}}}"#);
    assert_eq!(e.kind, Format::Mcp);
    assert_eq!(e.mcp_methods, ["tools/call"]);
    let tool = e.tool().unwrap();
    assert_eq!(tool.name, "run_sql");
    assert_eq!(tool.arguments_text, r#"{"argv":["rm","-rf","/"],"query":"DROP TABLE x"}"#);
    assert_eq!(
        segments(&e),
        [seg("params.arguments.argv", Role::User, true, "rm -rf /"), seg("params.arguments.query", Role::User, true, "DROP TABLE x")]
    );

    let e = read(JSON, "/mcp", r#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}},
        {"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{"name":"p","arguments":{"topic":"x"}}}]"#);
    assert_eq!(e.tools.len(), 1);
    assert_eq!(e.tools[0].arguments_text, "{}");
    assert_eq!(e.mcp_methods, ["tools/call", "prompts/get"]);
    assert_eq!(e.texts.iter().map(|s| s.field.as_str()).collect::<Vec<_>>(), ["[1].params.arguments.topic", "[1].params.name"]);
}

#[test]
fn kubernetes_paths() {
    /// Verb, group, namespace, resource, name.
    type View = (K8sVerb, &'static str, Option<&'static str>, &'static str, Option<&'static str>);
    let cases: &[(&str, &str, Option<View>)] = &[
        ("DELETE", "/api/v1/namespaces/prod", Some((K8sVerb::Delete, "", Some("prod"), "namespaces", Some("prod")))),
        ("DELETE", "/apis/apps/v1/namespaces/x/deployments/y", Some((K8sVerb::Delete, "apps", Some("x"), "deployments", Some("y")))),
        ("DELETE", "/api/v1/namespaces/x/pods", Some((K8sVerb::Deletecollection, "", Some("x"), "pods", None))),
        ("GET", "/api/v1/pods", Some((K8sVerb::List, "", None, "pods", None))),
        ("GET", "/api/v1/namespaces/x/pods/web?watch=true", Some((K8sVerb::Watch, "", Some("x"), "pods", Some("web")))),
        ("GET", "/api/v1/watch/namespaces/x/pods", Some((K8sVerb::Watch, "", Some("x"), "pods", None))),
        ("POST", "/apis/batch/v1/namespaces/ci/jobs", Some((K8sVerb::Create, "batch", Some("ci"), "jobs", None))),
        ("PATCH", "/apis/apps/v1/namespaces/x/deployments/y/scale", Some((K8sVerb::Patch, "apps", Some("x"), "deployments", Some("y")))),
        ("PUT", "/api/v1/namespaces/prod/finalize", Some((K8sVerb::Update, "", Some("prod"), "namespaces", Some("prod")))),
        ("DELETE", "/api/v1/namespaces/%70rod", Some((K8sVerb::Delete, "", Some("prod"), "namespaces", Some("prod")))),
        ("GET", "/api/v1", None),
        ("GET", "/apis", None),
        ("GET", "/healthz", None),
        ("GET", "/api/x/y", None),
    ];
    for (method, path, want) in cases {
        let got = parse_k8s_path(method, path, false)
            .map(|k| (k.verb, k.group.clone(), k.namespace.clone(), k.resource.clone(), k.name.clone()));
        let want = want.map(|(v, g, ns, r, n)| (v, g.to_owned(), ns.map(str::to_owned), r.to_owned(), n.map(str::to_owned)));
        assert_eq!(got, want, "{method} {path}");
    }
    let sub = parse_k8s_path("PATCH", "/apis/apps/v1/namespaces/x/deployments/y/scale", false).unwrap();
    assert_eq!(sub.subresource.as_deref(), Some("scale"));
    assert!(parse_k8s_path("DELETE", "/api/v1/namespaces/x/pods/p?dryRun=All", false).unwrap().dry_run);
    assert!(parse_k8s_path("GET", "/k8s/prod/api/v1/pods", false).is_none());
    assert_eq!(parse_k8s_path("GET", "/k8s/prod/api/v1/pods", true).unwrap().resource, "pods");
}

#[test]
fn kubernetes_requests() {
    let opts = ExtractOptions::default();
    let e = extract("", "DELETE", "/apis/apps/v1/namespaces/x/deployments/y", b"", &opts).unwrap();
    assert_eq!(e.kind, Format::Kubernetes);
    assert_eq!(e.k8s.as_ref().unwrap().to_string(), "delete deployments.apps/y in namespace x");
    let body = br#"{"kind":"Pod","spec":{"containers":[{"command":["sh","-c","rm -rf /"]}]}}"#;
    let e = extract(JSON, "POST", "/api/v1/namespaces/x/pods", body, &opts).unwrap();
    assert_eq!(e.kind, Format::Kubernetes);
    assert_eq!(segments(&e).last().unwrap().3, "sh -c rm -rf /");
    let e = extract("application/vnd.kubernetes.protobuf", "DELETE", "/api/v1/namespaces/prod", b"\x00\xff", &opts).unwrap();
    assert_eq!(e.kind, Format::Kubernetes);
    let k8s_only = ExtractOptions { format: FormatHint::Kubernetes, ..ExtractOptions::default() };
    let err = extract(JSON, "POST", "/v1/chat/completions", b"{}", &k8s_only).unwrap_err();
    assert!(matches!(err, ExtractError::Shape { ref field, .. } if field == "path"), "{err}");
}

#[test]
fn text_json_and_content_types() {
    let opts = ExtractOptions::default();
    let e = extract("text/plain; charset=utf-8", "POST", "/", b"hello", &opts).unwrap();
    assert_eq!((e.kind, e.texts[0].text.as_str(), e.texts[0].field.as_str()), (Format::Text, "hello", "body"));
    let e = extract("text/plain", "POST", "/", b"caf\xe9 rm -rf /", &opts).unwrap();
    assert_eq!(e.texts[0].text, "caf\u{FFFD} rm -rf /");
    let e = extract("", "POST", "/", b"  {\"a\":{\"b\":\"deep\"},\"n\":1}", &opts).unwrap();
    assert_eq!((e.kind, e.texts[0].field.as_str()), (Format::Json, "a.b"));
    let e = extract("", "POST", "/", b"{not json", &opts).unwrap();
    assert_eq!(e.kind, Format::Text);
    let e = extract(JSON, "GET", "/v1/models", b"", &opts).unwrap();
    assert_eq!(e.kind, Format::Empty);
    let e = extract("application/merge-patch+json", "PATCH", "/x", br#"{"k":"v"}"#, &opts).unwrap();
    assert_eq!(e.kind, Format::Json);
    let e = extract("application/yaml", "POST", "/x", b"cmd: rm -rf /", &opts).unwrap();
    assert_eq!(e.kind, Format::Text);
    let e = extract(JSON, "POST", "/", br#""just a string""#, &opts).unwrap();
    assert_eq!(e.texts[0].field, "body");
}

#[test]
fn other_content_types_follow_the_policy() {
    let body = vec![b'a'; 100];
    let with = |action, max_bytes| ExtractOptions { other_content: OtherContent { action, max_bytes }, ..ExtractOptions::default() };
    let e = extract("image/png", "POST", "/", &body, &with(OtherContentAction::Inspect, 10)).unwrap();
    assert_eq!((e.kind, e.texts[0].text.len(), e.truncated, e.inspected), (Format::Other, 10, true, true));
    let e = extract("multipart/form-data; boundary=x", "POST", "/", &body, &with(OtherContentAction::Pass, 10)).unwrap();
    assert!(e.texts.is_empty() && !e.inspected);
    let e = extract("application/octet-stream", "POST", "/", &body, &with(OtherContentAction::Block, 10)).unwrap();
    assert!(!e.inspected);
    // Other content is never "too large": only its start is read.
    let big = vec![b'x'; 9 << 20];
    assert!(extract("image/png", "POST", "/", &big, &with(OtherContentAction::Inspect, 64)).is_ok());
}

#[test]
fn malformed_bodies_give_clear_errors() {
    let opts = ExtractOptions::default();
    let cases: &[(&[u8], &str)] = &[
        (b"{\"messages\": [", "request body is not valid JSON: EOF while parsing a list at line 1 column 14"),
        (b"{\"messages\": \"hi\"}", "request body field `messages` must be an array of message objects"),
        (b"{\"messages\": [42]}", "request body field `messages[0]` must be an object with `role` and `content`"),
        (b"{\"messages\": [{\"role\": 1}]}", "request body field `messages[0].role` must be a string"),
        (b"{\"messages\": [{\"role\":\"user\",\"content\": 5}]}", "request body field `messages[0].content` must be a string, an array of content parts, or null"),
        (b"{\"messages\": [{\"role\":\"user\",\"content\": [true]}]}", "request body field `messages[0].content[0]` must be a content part object"),
        (b"{\"prompt\": [[1, 2, 3]]}", "request body field `prompt[0]` must be a string or an array of strings (token-id prompts cannot be inspected)"),
        (b"{\"input\": 5}", "request body field `input` must be a string or an array of input items"),
        (b"{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\",\"params\":{\"arguments\":{}}}", "request body field `params.name` must be the tool name, a string"),
        (b"{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\",\"params\":{\"name\":\"x\",\"arguments\":[1]}}", "request body field `params.arguments` must be an object"),
        (b"{\"system\": 3, \"messages\": []}", "request body field `system` must be a string or an array of text blocks"),
    ];
    for (body, want) in cases {
        let err = extract(JSON, "POST", "/v1/chat/completions", body, &opts).unwrap_err();
        assert_eq!(err.to_string(), *want, "{}", String::from_utf8_lossy(body));
    }
    let err = extract(JSON, "POST", "/", b"{\"a\":\"caf\xe9\"}", &opts).unwrap_err();
    assert!(matches!(err, ExtractError::InvalidJson { .. }), "{err}");
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let err = extract(JSON, "POST", "/", deep.as_bytes(), &opts).unwrap_err();
    assert!(err.to_string().contains("recursion limit"), "{err}");
}

#[test]
fn huge_bodies_are_refused_before_parsing() {
    let opts = ExtractOptions { max_body_bytes: 1024, ..ExtractOptions::default() };
    let body = format!("{{\"messages\":[{{\"role\":\"user\",\"content\":\"{}\"}}]}}", "a".repeat(2000));
    let err = extract(JSON, "POST", "/v1/chat/completions", body.as_bytes(), &opts).unwrap_err();
    assert_eq!(err, ExtractError::TooLarge { bytes: body.len(), limit: 1024 });
    assert!(extract("text/plain", "POST", "/", &[b'a'; 2000], &opts).is_err());

    // Within the default limit, a 4 MiB prompt is read whole.
    let big = format!("{{\"prompt\":\"{}\"}}", "word ".repeat(800_000));
    let e = extract(JSON, "POST", "/v1/completions", big.as_bytes(), &ExtractOptions::default()).unwrap();
    assert_eq!(e.texts[0].text.len(), 4_000_000);
}

#[test]
fn format_hints_force_a_reading() {
    let with = |format| ExtractOptions { format, ..ExtractOptions::default() };
    let e = extract(JSON, "POST", "/anything", br#"{"messages":[{"role":"user","content":"x"}]}"#, &with(FormatHint::Anthropic)).unwrap();
    assert_eq!(e.kind, Format::AnthropicMessages);
    let e = extract(JSON, "POST", "/anything", br#"{"messages":[]}"#, &with(FormatHint::Text)).unwrap();
    assert_eq!((e.kind, e.texts[0].text.as_str()), (Format::Text, r#"{"messages":[]}"#));
    assert!(extract(JSON, "POST", "/mcp", br#"{"method":"x"}"#, &with(FormatHint::Mcp)).is_err());
    assert!(extract(JSON, "POST", "/v1", br#"{"foo":"x"}"#, &with(FormatHint::Openai)).is_err());
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let pieces: &[&[u8]] = &[b"{", b"}", b"[", b"]", b"\"", b":", b",", b"messages", b"content", b"role", b"jsonrpc",
        b"tools/call", b"params", b"name", b"prompt", b"input", b"\xff", b"\\u0000", b"1", b"null", b" "];
    for _ in 0..3000 {
        let body: Vec<u8> = (0..(next() % 40)).flat_map(|_| pieces[(next() % pieces.len() as u64) as usize].to_vec()).collect();
        for ct in [JSON, "", "text/plain", "image/png"] {
            for path in ["/v1/chat/completions", "/api/v1/namespaces/x/pods/y", "/mcp"] {
                let _ = extract(ct, "DELETE", path, &body, &ExtractOptions::default());
            }
        }
    }
}
