//===- HfConfig.cpp - HuggingFace's BERT config.json and the model's constants ===//
#include "runtime/HfConfig.h"

#include <filesystem>

namespace bertc::rt {

namespace {

/// A config key that is one of the model's constants.
struct Key {
  const char *key;      ///< BertConfig's name.
  const char *constant; ///< models/bert.bertc's name.
  bool size;            ///< A positive integer every config must give.
  double fallback;      ///< BertConfig's default (keys that are not sizes).
};

constexpr Key kKeys[] = {
    {"hidden_size", "hidden", true, 0},
    {"num_hidden_layers", "layers", true, 0},
    {"num_attention_heads", "heads", true, 0},
    {"intermediate_size", "intermediate", true, 0},
    {"vocab_size", "vocab_size", true, 0},
    {"max_position_embeddings", "max_position", true, 0},
    {"type_vocab_size", "type_vocab_size", true, 0},
    {"layer_norm_eps", "layer_norm_eps", false, 1e-12},
    {"hidden_dropout_prob", "hidden_dropout", false, 0.1},
    {"attention_probs_dropout_prob", "attention_dropout", false, 0.1},
    {"initializer_range", "init_range", false, 0.02},
};

/// Keys whose value must be what the model is, or absent.
struct Fixed {
  const char *key;
  const char *value; ///< As JSON.
  const char *what;  ///< What the model is, for the error.
};

constexpr Fixed kFixed[] = {
    {"hidden_act", "\"gelu\"", "the model's activation is the exact (erf) GELU, \"gelu\""},
    {"position_embedding_type", "\"absolute\"", "the model has absolute position embeddings"},
    {"model_type", "\"bert\"", "the model is BERT"},
    {"is_decoder", "false", "the model is an encoder"},
    {"add_cross_attention", "false", "the model has no cross-attention"},
    {"tie_word_embeddings", "true", "the model ties the MLM decoder to the word embeddings"},
};

std::string spell(double v) { return Json(v).dump(); }

} // namespace

bool readHfConfig(const std::string &path, std::vector<HfSetting> &out, std::string &error) {
  std::error_code ec;
  std::string file = std::filesystem::is_directory(path, ec)
                         ? (std::filesystem::path(path) / "config.json").string()
                         : path;
  Json config;
  if (!Json::readObject(file, config, error))
    return false;
  auto fail = [&](const std::string &key, const std::string &why) {
    error = file + ": \"" + key + "\" " + why;
    return false;
  };
  out.clear();
  double hiddenDropout = 0.1;
  for (const Key &k : kKeys) {
    const Json *v = config.find(k.key);
    std::string origin = file + ": \"" + k.key + "\"";
    if (k.size) {
      if (!v)
        return fail(k.key, "is missing");
      if (!v->isNumber() || !v->isInteger() || v->integer() <= 0)
        return fail(k.key, "must be a positive integer, got " + v->dump());
      out.push_back({k.constant, std::to_string(v->integer()), origin});
      continue;
    }
    if (v && !v->isNumber())
      return fail(k.key, "must be a number, got " + v->dump());
    double value = v ? v->number() : k.fallback;
    if (std::string(k.key) == "hidden_dropout_prob")
      hiddenDropout = value;
    out.push_back({k.constant, spell(value), origin});
  }
  for (const Fixed &f : kFixed) {
    const Json *v = config.find(f.key);
    if (v && v->dump() != f.value)
      return fail(f.key, "is " + v->dump() + ": " + f.what);
  }
  if (const Json *v = config.find("classifier_dropout"); v && !v->isNull()) {
    if (!v->isNumber())
      return fail("classifier_dropout", "must be a number or null, got " + v->dump());
    if (v->number() != hiddenDropout)
      return fail("classifier_dropout",
                  "is " + v->dump() + ": the model's classifier drops out at hidden_dropout_prob (" +
                      spell(hiddenDropout) + ")");
  }
  // The classes: num_labels, else as many as id2label names (BertConfig: 2).
  const Json *labels = config.find("num_labels");
  const Json *names = config.find("id2label");
  if (names && !names->isObject())
    return fail("id2label", "must be an object, got " + names->dump());
  if (labels && (!labels->isNumber() || !labels->isInteger() || labels->integer() <= 0))
    return fail("num_labels", "must be a positive integer, got " + labels->dump());
  int64_t classes = labels ? labels->integer()
                    : names ? static_cast<int64_t>(names->members().size())
                            : 2;
  if (labels && names && static_cast<int64_t>(names->members().size()) != classes)
    return fail("id2label", "names " + std::to_string(names->members().size()) +
                                " labels, num_labels is " + std::to_string(classes));
  out.push_back({"num_labels", std::to_string(classes),
                 file + ": \"" + (labels ? "num_labels" : names ? "id2label" : "num_labels") + "\""});
  return true;
}

Json writeHfConfig(const Json &constants, const std::string &architecture,
                   const std::vector<std::string> &labels) {
  Json config = Json::object();
  Json architectures = Json::array();
  architectures.push(Json(architecture));
  config["architectures"] = architectures;
  config["model_type"] = Json("bert");
  config["hidden_act"] = Json("gelu");
  config["position_embedding_type"] = Json("absolute");
  for (const Key &k : kKeys)
    if (const Json *v = constants.find(k.constant))
      config[k.key] = *v;
  if (!labels.empty()) {
    Json id2label = Json::object(), label2id = Json::object();
    for (size_t i = 0; i < labels.size(); ++i) {
      id2label[std::to_string(i)] = Json(labels[i]);
      label2id[labels[i]] = Json(static_cast<int64_t>(i));
    }
    config["id2label"] = id2label;
    config["label2id"] = label2id;
    config["num_labels"] = Json(static_cast<int64_t>(labels.size()));
  }
  return config;
}

} // namespace bertc::rt
