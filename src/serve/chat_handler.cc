// POST /v1/chat/completions: plain (whole or streamed) and RAG answers.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "serve/chat_api.h"
#include "serve/deadline_chat.h"
#include "serve/handlers.h"

namespace ragft::serve {

namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// A streamed completion: the model runs on `worker`, its deltas queue up here, and the request
// thread writes them to the client. Destroying the state cancels the model and joins the worker.
struct StreamState {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> pieces;
  std::optional<Result<ChatResponse>> result;  // set when the model returned
  std::atomic<bool> cancelled{false};
  std::atomic<bool> timed_out{false};  // the request's time limit stopped the model
  std::thread worker;

  ~StreamState() {
    cancelled = true;
    if (worker.joinable()) worker.join();
  }

  // Waits for deltas or the end: true with every queued delta moved to `out` (in order), or
  // false once the model returned and every delta was taken.
  bool take(std::vector<std::string>& out) {
    out.clear();
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return !pieces.empty() || result.has_value(); });
    if (pieces.empty()) return false;
    out.assign(std::make_move_iterator(pieces.begin()), std::make_move_iterator(pieces.end()));
    pieces.clear();
    return true;
  }
};

Reply stream_plain(const ServeContext& ctx, ChatApiRequest request, std::string model_name) {
  auto st = std::make_shared<StreamState>();
  std::shared_ptr<const ChatModel> model = ctx.components.chat;
  StreamState* raw = st.get();  // the worker never outlives the state (its destructor joins)
  raw->worker = std::thread([raw, model, chat = request.chat, deadline = model_deadline(ctx)] {
    const DeadlineChat limited(*model, deadline);
    auto r = limited.stream(chat, [raw](std::string_view delta) {
      if (raw->cancelled) return false;
      std::lock_guard lock(raw->mu);
      raw->pieces.emplace_back(delta);
      raw->cv.notify_all();
      return true;
    });
    std::lock_guard lock(raw->mu);
    raw->timed_out = limited.timed_out();
    raw->result.emplace(std::move(r));
    raw->cv.notify_all();
  });
  // Wait for the first delta or the end, so a failure before any text gets a real status.
  {
    std::unique_lock lock(st->mu);
    st->cv.wait(lock, [&] { return !st->pieces.empty() || st->result.has_value(); });
    if (st->pieces.empty() && !st->result->ok()) return Reply::error(model_error(ctx, st->result->error(), st->timed_out));
  }
  Reply reply;
  reply.content_type = "text/event-stream";
  const std::string id = new_completion_id();
  const std::time_t created = std::time(nullptr);
  const bool include_usage = request.include_usage;
  // The context outlives every request (the server drains requests before it goes).
  reply.stream = [st, id, created, include_usage, model_name, ctx = &ctx](const std::function<bool(std::string_view)>& write) {
    if (!write(chunk_event(id, created, model_name, {{"role", "assistant"}, {"content", ""}}))) {
      st->cancelled = true;
      return;
    }
    // The deltas queued since the last write go out in one write (one chunk event each).
    std::vector<std::string> pieces;
    std::string events;
    while (st->take(pieces)) {
      events.clear();
      for (const auto& p : pieces) events += chunk_event(id, created, model_name, {{"content", p}});
      if (!write(events)) {
        st->cancelled = true;  // the client went away: stop generating
        return;
      }
    }
    const Result<ChatResponse>& r = *st->result;  // set: take() returned false
    if (!r.ok()) {
      log::warn("event=serve_stream_failed error=\"{}\"", r.error().to_string());
      write(error_event(model_error(*ctx, r.error(), st->timed_out)));
      return;
    }
    const std::string finish = r->finish_reason.empty() ? "stop" : r->finish_reason;
    if (!write(chunk_event(id, created, model_name, json::object(), finish))) return;
    if (include_usage && r->usage && !write(usage_event(id, created, model_name, *r->usage))) return;
    write(kDoneEvent);
  };
  return reply;
}

Reply answer_rag(const ServeContext& ctx, const RequestContext& req, const ChatApiRequest& request,
                 const std::string& model_name) {
  const ServeComponents& c = ctx.components;
  if (!c.workspaces) {
    return Reply::error(bad_request("ragft.rag",
                                    "this server has no workspace to retrieve from; start `ragft serve` with --data "
                                    "DIR holding an indexed workspace",
                                    "no_workspace"));
  }
  const RagRequest& rag = *request.rag;
  // The question: the last user message (earlier turns are not sent to the model: the prompt
  // template holds the sources and this question).
  auto last_user = std::find_if(request.chat.messages.rbegin(), request.chat.messages.rend(),
                                [](const ChatMessage& m) { return m.role == ChatRole::kUser; });
  SearchRequest search_request;
  search_request.query = last_user->content;
  search_request.k = rag.k.value_or(c.answer.chunks);
  search_request.tenant = req.identity.tenant;
  search_request.principal = req.identity.principal;
  search_request.metadata = rag.filter;
  search_request.mode = rag.mode;
  auto lease = c.workspaces->acquire();
  if (!lease.ok()) return Reply::error(api_error_from(lease.error(), ErrorSource::kServer, "workspace"));
  auto hits = search(**lease, search_request);
  if (!hits.ok()) {
    ApiError e = api_error_from(hits.error(), ErrorSource::kServer, "retrieval");
    if (e.status == 400) e.param = "messages";
    return Reply::error(e);
  }
  const std::size_t retrieved = hits->size();
  LlmAnswerOptions options = c.answer;
  options.chunks = search_request.k;
  options.max_tokens = request.max_tokens_given ? request.chat.max_tokens
                                                : std::min(options.max_tokens, ctx.options.limits.max_tokens);
  if (request.chat.temperature) options.temperature = *request.chat.temperature;
  const DeadlineChat limited(*c.chat, model_deadline(ctx));
  auto written = answer_with_llm(**lease, search_request, std::move(*hits), limited, c.prompt, options);
  if (!written.ok()) return Reply::error(model_error(ctx, written.error(), limited.timed_out()));
  ChatResponse response;
  response.text = written->answer.text();
  response.finish_reason = "stop";
  if (written->usage) {
    response.usage = *written->usage;
  } else if (!written->called_model) {
    response.usage = ChatUsage{};  // abstained before calling the model: no tokens
  }
  const json ext = rag_extension_json(written->answer, written->called_model, retrieved);
  const std::string id = new_completion_id();
  const std::time_t created = std::time(nullptr);
  if (!request.stream) return Reply::json(dump(completion_json(id, created, model_name, response, ext)));
  // Streamed: the answer is checked whole before any of it is sent, so it goes out as one delta.
  std::vector<std::string> events;
  events.push_back(chunk_event(id, created, model_name, {{"role", "assistant"}, {"content", ""}}));
  if (!response.text.empty()) events.push_back(chunk_event(id, created, model_name, {{"content", response.text}}));
  events.push_back(chunk_event(id, created, model_name, json::object(), "stop", ext));
  if (request.include_usage && response.usage) events.push_back(usage_event(id, created, model_name, *response.usage));
  events.emplace_back(kDoneEvent);
  Reply reply;
  reply.content_type = "text/event-stream";
  reply.stream = [events = std::move(events)](const std::function<bool(std::string_view)>& write) {
    for (const auto& e : events) {
      if (!write(e)) return;
    }
  };
  return reply;
}

}  // namespace

std::chrono::steady_clock::time_point model_deadline(const ServeContext& ctx) {
  return std::chrono::steady_clock::now() + std::chrono::seconds(ctx.options.limits.max_seconds);
}

ApiError model_error(const ServeContext& ctx, const Error& e, bool timed_out) {
  if (!timed_out) return api_error_from(e, ErrorSource::kUpstream, "chat model");
  ApiError out;
  out.status = 504;
  out.type = "server_error";
  out.code = "timeout";
  out.message = fmt::format("the chat model did not finish within the server's limit of {} s per request "
                            "(ragft serve --max-seconds)",
                            ctx.options.limits.max_seconds);
  return out;
}

Reply handle_chat_completions(const ServeContext& ctx, const RequestContext& req) {
  if (!ctx.components.chat) {
    return Reply::error(bad_request("model",
                                    "this server has no chat model; start `ragft serve` with --llm "
                                    "openai:url=...,model=... or --llm local:path=DIR",
                                    "no_model"));
  }
  ParsedChat parsed = parse_chat_request(req.body, ctx.options.limits);
  if (!parsed.request) return Reply::error(parsed.error);
  ChatApiRequest& request = *parsed.request;
  const std::string model_name = request.model.empty() ? ctx.options.chat_model_id : request.model;
  if (request.rag) return answer_rag(ctx, req, request, model_name);
  if (request.stream) return stream_plain(ctx, std::move(request), model_name);
  const DeadlineChat limited(*ctx.components.chat, model_deadline(ctx));
  auto r = limited.complete(request.chat);
  if (!r.ok()) return Reply::error(model_error(ctx, r.error(), limited.timed_out()));
  return Reply::json(dump(completion_json(new_completion_id(), std::time(nullptr), model_name, *r)));
}

}  // namespace ragft::serve
