//===- HfConfig.h - HuggingFace's BERT config.json and the model's constants -*- C++ -*-===//
//
// A HuggingFace BERT model directory describes the model in config.json
// (BertConfig): hidden_size, num_hidden_layers, ... Each key that sizes the
// model corresponds to one constant of models/bert.bertc; the table in
// HfConfig.cpp says which. `bertc compile --hf-config` reads a config into
// constant settings; saves write one back from a program's constants.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_HFCONFIG_H
#define BERTC_RUNTIME_HFCONFIG_H

#include "runtime/Json.h"

#include <string>
#include <vector>

namespace bertc::rt {

/// One model constant set from a config key.
struct HfSetting {
  std::string constant; ///< The model's constant, e.g. "hidden".
  std::string value;    ///< Its value, spelled as `--set` takes it.
  std::string origin;   ///< Where it came from: `PATH: "hidden_size"`.
};

/// Reads `path` (a config.json, or a model directory holding one) into
/// settings of the model's constants. Every size key must be there and a
/// positive integer; the others (layer_norm_eps, the dropouts,
/// initializer_range, num_labels or id2label) take BertConfig's defaults when
/// absent. What the model cannot be (hidden_act other than "gelu", a
/// position_embedding_type other than "absolute", a decoder, untied word
/// embeddings, a model_type other than "bert", a classifier_dropout unlike
/// hidden_dropout_prob) is an error naming the file and the key.
bool readHfConfig(const std::string &path, std::vector<HfSetting> &out, std::string &error);

/// The config.json of a model whose constants are `constants` (a program's
/// Program::config), with "architectures" = [`architecture`] and, when
/// `labels` is not empty, id2label/label2id in their order.
Json writeHfConfig(const Json &constants, const std::string &architecture,
                   const std::vector<std::string> &labels);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_HFCONFIG_H
