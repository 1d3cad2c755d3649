// flowchart_svg (report_charts.h): a small layered ("Sugiyama-style") drawing of report.flowchart.
//  1. Layers: longest path from "start" when the reachable graph is acyclic, so every edge
//     points down; BFS depth otherwise. Nodes not reachable from "start" go one layer below.
//  2. Edges that skip layers get invisible waypoints in the layers between, so they route
//     around nodes instead of through them.
//  3. Order within layers: barycentre sweeps, down and up.
//  4. x: each vertex pulled toward its neighbours, then overlaps pushed apart.
#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "decide/report_charts.h"
#include "decide/report_svg.h"

namespace ragft::decide::render {

namespace {

constexpr std::string_view kOffFill = "#f8f9fa";
constexpr std::string_view kOffText = "#868e96";
constexpr double kNodeW = 176, kDummyW = 14, kGapX = 26, kGapY = 58, kLine = 15, kPad = 9, kMargin = 16;
constexpr std::size_t kChars = 22, kMaxLines = 4;

struct Vertex {
  std::string id, label, kind;
  bool dummy = false;
  int layer = -1;
  double w = kNodeW, h = 0, cx = 0, y = 0;
  std::vector<std::string> lines;
};

struct Edge {
  std::size_t from = 0, to = 0;
  std::string label;
  bool on = false;
  std::vector<std::size_t> chain;  // from, waypoints..., to (empty for back and same-layer edges)
};

// Longest-path layers over the part reachable from `root`; false when it has a cycle.
bool longest_path_layers(std::vector<Vertex>& vs, const std::vector<Edge>& edges, std::size_t root,
                         const std::vector<bool>& reachable) {
  std::vector<int> indegree(vs.size(), 0);
  for (const auto& e : edges) {
    if (reachable[e.from] && reachable[e.to]) ++indegree[e.to];
  }
  std::vector<int> layer(vs.size(), 0);
  std::deque<std::size_t> ready{root};
  std::size_t done = 0, total = static_cast<std::size_t>(std::count(reachable.begin(), reachable.end(), true));
  if (indegree[root] != 0) return false;
  while (!ready.empty()) {
    std::size_t u = ready.front();
    ready.pop_front();
    ++done;
    for (const auto& e : edges) {
      if (e.from != u || !reachable[e.to]) continue;
      layer[e.to] = std::max(layer[e.to], layer[u] + 1);
      if (--indegree[e.to] == 0) ready.push_back(e.to);
    }
  }
  if (done != total) return false;
  for (std::size_t i = 0; i < vs.size(); ++i) {
    if (reachable[i]) vs[i].layer = layer[i];
  }
  return true;
}

// Orders `layers` by barycentre sweeps over the (waypoint-expanded) adjacency.
void order_layers(std::vector<std::vector<std::size_t>>& layers, const std::vector<std::vector<std::size_t>>& pred,
                  const std::vector<std::vector<std::size_t>>& succ, std::vector<double>& pos) {
  auto index_positions = [&](const std::vector<std::size_t>& layer) {
    for (std::size_t k = 0; k < layer.size(); ++k) pos[layer[k]] = static_cast<double>(k);
  };
  for (const auto& layer : layers) index_positions(layer);
  for (int iter = 0; iter < 6; ++iter) {
    bool down = iter % 2 == 0;
    for (std::size_t step = 1; step < layers.size(); ++step) {
      std::size_t d = down ? step : layers.size() - 1 - step;
      auto& layer = layers[d];
      const auto& nbrs = down ? pred : succ;
      std::vector<std::pair<double, std::size_t>> keyed;
      for (std::size_t v : layer) {
        double sum = 0;
        for (std::size_t u : nbrs[v]) sum += pos[u];
        keyed.emplace_back(nbrs[v].empty() ? pos[v] : sum / static_cast<double>(nbrs[v].size()), v);
      }
      std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      for (std::size_t k = 0; k < keyed.size(); ++k) layer[k] = keyed[k].second;
      index_positions(layer);
    }
  }
}

// x centres: pulled toward neighbours, overlaps resolved left to right, layer re-centred.
void place_x(std::vector<Vertex>& vs, const std::vector<std::vector<std::size_t>>& layers,
             const std::vector<std::vector<std::size_t>>& pred, const std::vector<std::vector<std::size_t>>& succ) {
  for (const auto& layer : layers) {
    double x = 0;
    for (std::size_t k = 0; k < layer.size(); ++k) {
      if (k > 0) x += (vs[layer[k - 1]].w + vs[layer[k]].w) / 2 + kGapX;
      vs[layer[k]].cx = x;
    }
    for (std::size_t v : layer) vs[v].cx -= x / 2;
  }
  for (int iter = 0; iter < 12; ++iter) {
    for (std::size_t step = 0; step < layers.size(); ++step) {
      std::size_t d = iter % 2 == 0 ? step : layers.size() - 1 - step;
      const auto& layer = layers[d];
      if (layer.empty()) continue;
      std::vector<double> want(layer.size());
      for (std::size_t k = 0; k < layer.size(); ++k) {
        std::size_t v = layer[k];
        double sum = 0, n = 0;
        for (const auto* nbrs : {&pred[v], &succ[v]}) {
          for (std::size_t u : *nbrs) {
            sum += vs[u].cx;
            ++n;
          }
        }
        want[k] = n > 0 ? sum / n : vs[v].cx;
      }
      std::vector<double> x(want);
      for (std::size_t k = 1; k < layer.size(); ++k) {
        x[k] = std::max(x[k], x[k - 1] + (vs[layer[k - 1]].w + vs[layer[k]].w) / 2 + kGapX);
      }
      double shift = 0;
      for (std::size_t k = 0; k < layer.size(); ++k) shift += x[k] - want[k];
      shift /= static_cast<double>(layer.size());
      for (std::size_t k = 0; k < layer.size(); ++k) vs[layer[k]].cx = x[k] - shift;
    }
  }
}

// A smooth path through `pts` (downward segments as vertical S-curves, waypoint runs straight).
std::string path_d(const std::vector<std::pair<double, double>>& pts) {
  std::string d = fmt::format("M{},{}", px(pts[0].first), px(pts[0].second));
  for (std::size_t i = 1; i < pts.size(); ++i) {
    auto [x0, y0] = pts[i - 1];
    auto [x1, y1] = pts[i];
    if (std::fabs(x0 - x1) < 0.5) {
      d += fmt::format(" L{},{}", px(x1), px(y1));
    } else {
      double ym = (y0 + y1) / 2;
      d += fmt::format(" C{},{} {},{} {},{}", px(x0), px(ym), px(x1), px(ym), px(x1), px(y1));
    }
  }
  return d;
}

// The point at `t` on the segment path_d draws from `a` to `b`.
std::pair<double, double> path_point(std::pair<double, double> a, std::pair<double, double> b, double t) {
  auto [x0, y0] = a;
  auto [x1, y1] = b;
  if (std::fabs(x0 - x1) < 0.5) return {x0, y0 + (y1 - y0) * t};
  double ym = (y0 + y1) / 2, u = 1 - t;
  double x = u * u * u * x0 + 3 * u * u * t * x0 + 3 * u * t * t * x1 + t * t * t * x1;
  double y = u * u * u * y0 + 3 * u * u * t * ym + 3 * u * t * t * ym + t * t * t * y1;
  return {x, y};
}

}  // namespace

std::string flowchart_svg(const Json& report) {
  std::vector<Vertex> vs;
  std::map<std::string, std::size_t> index;
  for (const Json* n : objects(get(report, {"flowchart", "nodes"}))) {
    auto id = str(n, {"id"});
    if (!id || index.count(*id)) continue;
    index[*id] = vs.size();
    Vertex v;
    v.id = *id;
    v.label = str_or(n, {"label"}, *id);
    v.kind = str_or(n, {"kind"}, "question");
    vs.push_back(std::move(v));
  }
  if (vs.empty()) return {};
  const std::size_t real = vs.size();

  std::vector<std::string> path = strings(get(report, {"recommendation", "path"}));
  std::set<std::string> on_nodes(path.begin(), path.end());
  std::set<std::pair<std::string, std::string>> on_edges;
  for (std::size_t i = 0; i + 1 < path.size(); ++i) on_edges.emplace(path[i], path[i + 1]);

  std::vector<Edge> edges;
  for (const Json* e : objects(get(report, {"flowchart", "edges"}))) {
    auto from = str(e, {"from"}), to = str(e, {"to"});
    if (!from || !to || !index.count(*from) || !index.count(*to) || *from == *to) continue;
    edges.push_back(Edge{index[*from], index[*to], str_or(e, {"label"}, ""), on_edges.count({*from, *to}) > 0, {}});
  }

  // 1. Layers.
  std::size_t root = index.count("start") ? index["start"] : 0;
  std::vector<std::size_t> bfs_order;
  std::vector<bool> reachable(real, false);
  std::vector<int> bfs_depth(real, -1);
  std::deque<std::size_t> queue{root};
  reachable[root] = true;
  bfs_depth[root] = 0;
  while (!queue.empty()) {
    std::size_t u = queue.front();
    queue.pop_front();
    bfs_order.push_back(u);
    for (const auto& e : edges) {
      if (e.from == u && !reachable[e.to]) {
        reachable[e.to] = true;
        bfs_depth[e.to] = bfs_depth[u] + 1;
        queue.push_back(e.to);
      }
    }
  }
  if (!longest_path_layers(vs, edges, root, reachable)) {
    for (std::size_t i = 0; i < real; ++i) vs[i].layer = bfs_depth[i];
  }
  int max_layer = 0;
  for (const auto& v : vs) max_layer = std::max(max_layer, v.layer);
  for (std::size_t i = 0; i < real; ++i) {
    if (!reachable[i]) {
      vs[i].layer = max_layer + 1;
      bfs_order.push_back(i);
    }
  }
  for (const auto& v : vs) max_layer = std::max(max_layer, v.layer);

  // 2. Waypoints for edges that skip layers.
  std::vector<std::vector<std::size_t>> layers(static_cast<std::size_t>(max_layer + 1));
  for (std::size_t i : bfs_order) layers[static_cast<std::size_t>(vs[i].layer)].push_back(i);
  for (auto& e : edges) {
    if (vs[e.to].layer <= vs[e.from].layer) continue;  // back or same-layer edge: drawn on the side
    e.chain.push_back(e.from);
    for (int l = vs[e.from].layer + 1; l < vs[e.to].layer; ++l) {
      Vertex w;
      w.dummy = true;
      w.layer = l;
      w.w = kDummyW;
      e.chain.push_back(vs.size());
      layers[static_cast<std::size_t>(l)].push_back(vs.size());
      vs.push_back(std::move(w));
    }
    e.chain.push_back(e.to);
  }
  std::vector<std::vector<std::size_t>> pred(vs.size()), succ(vs.size());
  for (const auto& e : edges) {
    for (std::size_t k = 0; k + 1 < e.chain.size(); ++k) {
      succ[e.chain[k]].push_back(e.chain[k + 1]);
      pred[e.chain[k + 1]].push_back(e.chain[k]);
    }
  }

  // 3-4. Order and place.
  std::vector<double> pos(vs.size(), 0);
  order_layers(layers, pred, succ, pos);
  place_x(vs, layers, pred, succ);

  for (std::size_t i = 0; i < real; ++i) {
    Vertex& v = vs[i];
    v.lines = wrap(v.label, kChars);
    if (v.lines.size() > kMaxLines) {
      v.lines.resize(kMaxLines);
      v.lines.back() = truncate(v.lines.back() + " \u2026", kChars);
    }
    if (v.lines.empty()) v.lines.push_back(truncate(v.id, kChars));
    v.h = std::max(34.0, kLine * static_cast<double>(v.lines.size()) + 2 * kPad);
  }
  bool side_edges = std::any_of(edges.begin(), edges.end(), [](const Edge& e) { return e.chain.empty(); });
  double min_x = 0, max_x = 0;
  bool first = true;
  for (const auto& v : vs) {
    min_x = first ? v.cx - v.w / 2 : std::min(min_x, v.cx - v.w / 2);
    max_x = first ? v.cx + v.w / 2 : std::max(max_x, v.cx + v.w / 2);
    first = false;
  }
  double width = max_x - min_x + 2 * kMargin + (side_edges ? 70 : 0);
  std::vector<double> layer_top(layers.size()), layer_h(layers.size());
  double y = kMargin;
  for (std::size_t d = 0; d < layers.size(); ++d) {
    double h = 20;
    for (std::size_t v : layers[d]) h = std::max(h, vs[v].h);
    layer_top[d] = y;
    layer_h[d] = h;
    for (std::size_t v : layers[d]) {
      vs[v].cx += kMargin - min_x;
      vs[v].y = y + (h - vs[v].h) / 2;
    }
    y += h + kGapY;
  }
  double height = y - kGapY + kMargin;

  std::string path_text;
  for (const auto& id : path) path_text += (path_text.empty() ? "" : " \u2192 ") + id;
  std::string s = svg_open("chart-flowchart", width, height, "Decision flowchart",
                           path_text.empty() ? "No path recorded" : "Path taken: " + path_text);
  s += fmt::format(
      "<defs><marker id=\"fc-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
      "markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"{}\"/></marker>"
      "<marker id=\"fc-arrow-on\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"5\" "
      "markerHeight=\"5\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"{}\"/></marker></defs>",
      kMuted, kHighlight);

  // Edges, greyed first so the path taken is drawn on top.
  struct PendingLabel {
    std::string text;
    bool on;
    std::vector<Spot> spots;
  };
  std::vector<PendingLabel> pending;
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& e : edges) {
      if (e.on != (pass == 1)) continue;
      const Vertex& a = vs[e.from];
      const Vertex& b = vs[e.to];
      std::string style = e.on ? stroke(kHighlight, 3) + " marker-end=\"url(#fc-arrow-on)\""
                               : stroke(kMuted, 1.2) + " marker-end=\"url(#fc-arrow)\"";
      std::string d;
      std::vector<Spot> spots;  // where the label may go, best first
      if (!e.chain.empty()) {
        std::vector<std::pair<double, double>> pts{{a.cx, a.y + a.h}};
        for (std::size_t k = 1; k + 1 < e.chain.size(); ++k) {
          const Vertex& w = vs[e.chain[k]];
          auto l = static_cast<std::size_t>(w.layer);
          pts.emplace_back(w.cx, layer_top[l]);
          pts.emplace_back(w.cx, layer_top[l] + layer_h[l]);
        }
        pts.emplace_back(b.cx, b.y - 1);
        d = path_d(pts);
        std::vector<std::size_t> segs{0};  // first, last, then the runs past waypoints
        for (std::size_t k = pts.size() - 2; k > 0; --k) segs.push_back(k);
        for (double t : {0.5, 0.3, 0.7, 0.15, 0.85}) {
          for (std::size_t seg : segs) {
            auto [x, y] = path_point(pts[seg], pts[seg + 1], t);
            spots.push_back({x, y + 4, "middle"});
          }
        }
        auto [x, y] = path_point(pts[0], pts[1], 0.5);
        spots.push_back({x + 6, y + 4, "start"});
        spots.push_back({x - 6, y + 4, "end"});
      } else {  // same layer or back edge: a curve on the right
        double x1 = a.cx + a.w / 2, y1 = a.y + a.h / 2, x2 = b.cx + b.w / 2 + 2, y2 = b.y + b.h / 2;
        double bend = 40 + std::fabs(y1 - y2) * 0.1;
        d = fmt::format("M{},{} C{},{} {},{} {},{}", px(x1), px(y1), px(x1 + bend), px(y1), px(x2 + bend), px(y2),
                        px(x2), px(y2));
        spots.push_back({std::max(x1, x2) + bend * 0.75 + 4, (y1 + y2) / 2 + 4, "start"});
      }
      s += fmt::format("<path class=\"{}\" fill=\"none\" d=\"{}\" {}><title>{}</title></path>",
                       e.on ? "edge on-path" : "edge", d, style,
                       html_escape(a.id + " \u2192 " + b.id + (e.label.empty() ? "" : ": " + e.label)));
      if (!e.label.empty()) pending.push_back({truncate(e.label, 24), e.on, std::move(spots)});
    }
  }
  // Labels last, on top, clear of the nodes and of each other; the path taken places first.
  std::vector<Box> taken;
  for (std::size_t i = 0; i < real; ++i) {
    taken.push_back(Box{vs[i].cx - vs[i].w / 2, vs[i].y, vs[i].cx + vs[i].w / 2, vs[i].y + vs[i].h});
  }
  std::stable_partition(pending.begin(), pending.end(), [](const PendingLabel& l) { return l.on; });
  Box bounds{0, 0, width, height};
  for (const auto& l : pending) {
    Spot at = place_label(l.text, 11, l.spots, bounds, taken);
    s += svg_text(at.x, at.y, l.text, l.on ? "edge-label on-path" : "edge-label", at.anchor,
                  fmt::format("fill=\"{}\"", l.on ? kHighlight : kOffText));
  }
  for (std::size_t i = 0; i < real; ++i) {
    const Vertex& v = vs[i];
    bool on = on_nodes.count(v.id) > 0;
    double rx = v.kind == "decision" ? v.h / 2 : v.kind == "start" ? 2 : 8;
    s += fmt::format("<g class=\"node{}\" data-id=\"{}\" data-kind=\"{}\">", on ? " on-path" : "", html_escape(v.id),
                     html_escape(v.kind));
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\" {} {}>", px(v.cx - v.w / 2),
                     px(v.y), px(v.w), px(v.h), px(rx), fill(on ? kHighlight : kOffFill),
                     on ? stroke(kHighlight, 3) : stroke(kMuted, 1));
    s += "<title>" + html_escape(v.label) + (on ? " (taken)" : "") + "</title></rect>";
    double ty = v.y + v.h / 2 - kLine * (static_cast<double>(v.lines.size()) - 1) / 2 + 4;
    for (const auto& line : v.lines) {
      s += svg_text(v.cx, ty, line, on ? "node-text on-path" : "node-text", "middle",
                    fmt::format("fill=\"{}\"", on ? "#fff" : kOffText));
      ty += kLine;
    }
    s += "</g>";
  }
  return s + "</svg>";
}

}  // namespace ragft::decide::render
