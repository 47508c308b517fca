// RUN: bertc-opt %s --bertc-convert-graph-to-linalg --split-input-file | FileCheck %s

// Broadcasting: the smaller operand's map drops its missing axes; a scalar
// constant is folded into the body.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @broadcast_add
func.func @broadcast_add(%x: tensor<2x4xf32>, %b: tensor<4xf32>) -> tensor<2x4xf32> {
  // CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
  // CHECK: arith.addf
  %0 = graph.add %x, %b : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
  // CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ID]]]
  // CHECK: %[[C:.*]] = arith.constant 2.000000e+00 : f32
  // CHECK: arith.mulf %{{.*}}, %[[C]]
  %c = graph.constant 2.0 : tensor<f32>
  %1 = graph.mul %0, %c : tensor<2x4xf32>, tensor<f32> -> tensor<2x4xf32>
  // CHECK-NOT: graph.constant
  return %1 : tensor<2x4xf32>
}

// -----

// A weight shared by all batches: one 2-D matmul over the collapsed rows;
// transpose_b becomes an explicit linalg.transpose.
// CHECK-LABEL: func.func @dense
func.func @dense(%x: tensor<2x3x4xf32>, %w: tensor<5x4xf32>) -> tensor<2x3x5xf32> {
  // CHECK: linalg.transpose ins(%{{.*}} : tensor<5x4xf32>) outs(%{{.*}} : tensor<4x5xf32>) permutation = [1, 0]
  // Reshapes go through a flat view; the canonicalizer merges the pair.
  // CHECK: tensor.collapse_shape %{{.*}} : tensor<2x3x4xf32> into tensor<24xf32>
  // CHECK: tensor.expand_shape %{{.*}} : tensor<24xf32> into tensor<6x4xf32>
  // CHECK: linalg.fill
  // CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<6x4xf32>, tensor<4x5xf32>) outs(%{{.*}} : tensor<6x5xf32>)
  // CHECK: tensor.expand_shape %{{.*}} : tensor<30xf32> into tensor<2x3x5xf32>
  %0 = graph.matmul %x, %w {transpose_b = true} : tensor<2x3x4xf32>, tensor<5x4xf32> -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

// CHECK-LABEL: func.func @batched
func.func @batched(%q: tensor<2x3x8x4xf32>, %k: tensor<2x3x8x4xf32>) -> tensor<2x3x8x8xf32> {
  // CHECK: linalg.transpose
  // CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<6x8x4xf32>, tensor<6x4x8xf32>) outs(%{{.*}} : tensor<6x8x8xf32>)
  %0 = graph.matmul %q, %k {transpose_b = true} : tensor<2x3x8x4xf32>, tensor<2x3x8x4xf32> -> tensor<2x3x8x8xf32>
  return %0 : tensor<2x3x8x8xf32>
}

// -----

// A transposed first operand is read in place: a weight gradient (x^T dy)
// and a batched one (p^T v) use the *_transpose_a forms, with no transpose.
// CHECK-LABEL: func.func @transposed_a
func.func @transposed_a(%x: tensor<6x4xf32>, %dy: tensor<6x5xf32>, %p: tensor<3x8x8xf32>, %v: tensor<3x8x4xf32>) -> (tensor<4x5xf32>, tensor<3x8x4xf32>) {
  // CHECK-NOT: linalg.transpose
  // CHECK: linalg.matmul_transpose_a ins(%{{.*}}, %{{.*}} : tensor<6x4xf32>, tensor<6x5xf32>) outs(%{{.*}} : tensor<4x5xf32>)
  // CHECK: linalg.batch_matmul_transpose_a ins(%{{.*}}, %{{.*}} : tensor<3x8x8xf32>, tensor<3x8x4xf32>) outs(%{{.*}} : tensor<3x8x4xf32>)
  %0 = graph.matmul %x, %dy {transpose_a = true} : tensor<6x4xf32>, tensor<6x5xf32> -> tensor<4x5xf32>
  %1 = graph.matmul %p, %v {transpose_a = true} : tensor<3x8x8xf32>, tensor<3x8x4xf32> -> tensor<3x8x4xf32>
  return %0, %1 : tensor<4x5xf32>, tensor<3x8x4xf32>
}

// -----

// Softmax: max, exp(x - max), sum, divide.
// CHECK-LABEL: func.func @softmax
func.func @softmax(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // CHECK: arith.constant 0xFF800000 : f32
  // CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
  // CHECK: arith.maximumf
  // CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
  // CHECK: arith.subf
  // CHECK: math.exp
  // CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
  // CHECK: arith.addf
  // CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
  // CHECK: arith.divf
  %0 = graph.softmax %x axis 1 : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @layer_norm
func.func @layer_norm(%x: tensor<2x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<2x4xf32> {
  // CHECK-COUNT-2: iterator_types = ["parallel", "reduction"]
  // CHECK: math.sqrt
  // CHECK: arith.divf
  %0 = graph.layer_norm %x, %g, %b eps 1.0e-12 : tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// Embedding rows and gathers read with tensor.extract at clamped indices.
// CHECK-LABEL: func.func @embedding
func.func @embedding(%t: tensor<10x4xf32>, %ids: tensor<2x3xi32>) -> tensor<2x3x4xf32> {
  // CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x3xi32>)
  // CHECK: arith.index_cast
  // CHECK: arith.maxsi
  // CHECK: arith.minsi
  // CHECK: linalg.index 2
  // CHECK: tensor.extract %{{.*}}[%{{.*}}, %{{.*}}] : tensor<10x4xf32>
  %0 = graph.embedding %t[%ids] : tensor<10x4xf32>, tensor<2x3xi32> -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// Reshapes are views; slices copy; dropout without a key (inference) is the
// identity.
// CHECK-LABEL: func.func @layout
func.func @layout(%x: tensor<2x3x4xf32>) -> (tensor<6x4xf32>, tensor<2x4xf32>, tensor<2x3x4xf32>) {
  // CHECK: tensor.collapse_shape
  // CHECK: tensor.expand_shape
  %0 = graph.reshape %x to [6, 4] : tensor<2x3x4xf32> -> tensor<6x4xf32>
  // CHECK: tensor.extract_slice %{{.*}}[0, 0, 0] [2, 1, 4] [1, 1, 1] : tensor<2x3x4xf32> to tensor<2x4xf32>
  // CHECK: linalg.copy
  %1 = graph.select %x axis 1 [0] : tensor<2x3x4xf32> -> tensor<2x4xf32>
  // CHECK-NOT: graph.dropout
  %2 = graph.dropout %x rate 1.000000e-01 : tensor<2x3x4xf32>
  return %0, %1, %2 : tensor<6x4xf32>, tensor<2x4xf32>, tensor<2x3x4xf32>
}

// -----

// Cross-entropy: max, sum of exponentials, then one reduction gives both the
// loss sum and the count of labelled rows, and a last op divides.
// CHECK-LABEL: func.func @cross_entropy
func.func @cross_entropy(%l: tensor<6x5xf32>, %y: tensor<6xi32>) -> tensor<f32> {
  // CHECK: arith.maximumf
  // CHECK: math.exp
  // CHECK: linalg.generic {{.*}} iterator_types = ["reduction"]} ins({{.*}} : tensor<6xf32>, tensor<6xf32>, tensor<6xi32>) outs({{.*}} : tensor<f32>, tensor<f32>)
  // CHECK: arith.cmpi ne, %{{.*}}, %c-100_i32
  // CHECK: math.log
  // CHECK: arith.select
  // CHECK: arith.divf
  %0 = graph.cross_entropy %l, %y : tensor<6x5xf32>, tensor<6xi32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Keyed dropout: a Philox4x32-10 draw per element from its row-major
// position, the step and the site (counter) and the seed (key); 24 bits give
// u in [0, 1); elements with u < rate * scale are zeroed.
// CHECK-LABEL: func.func @dropout
func.func @dropout(%x: tensor<3x5xf32>, %seed: tensor<i32>, %step: tensor<i32>, %scale: tensor<f32>) -> tensor<3x5xf32> {
  // CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<3x5xf32>, tensor<i32>, tensor<i32>, tensor<f32>)
  // CHECK: ^bb0(%[[X:[a-z0-9_]+]]: f32, %[[SEED:[a-z0-9_]+]]: i32, %[[STEP:[a-z0-9_]+]]: i32, %[[SCALE:[a-z0-9_]+]]: f32
  // CHECK: %[[I0:.*]] = linalg.index 0
  // CHECK: %[[I1:.*]] = linalg.index 1
  // CHECK: %[[ROW:.*]] = arith.muli %[[I0]], %c5
  // CHECK: arith.addi %[[ROW]], %[[I1]]
  // CHECK: arith.index_castui %{{.*}} : index to i64
  // Ten rounds of two 32x32->64-bit products (the Philox multipliers).
  // CHECK-COUNT-10: arith.muli %{{.*}}, %c3528531795_i64{{.*}} : i64
  // CHECK: arith.shrui %{{.*}}, %c8_i32 : i32
  // CHECK: arith.uitofp
  // CHECK: arith.mulf %{{.*}}, %[[SCALE]]
  // CHECK: arith.cmpf oge
  // CHECK: arith.select
  %y = graph.dropout %x rate 1.000000e-01 site 7 key(%seed, %step, %scale) : tensor<3x5xf32>, tensor<i32>, tensor<i32>, tensor<f32>
  return %y : tensor<3x5xf32>
}

// -----

// AdamW: a rank-0 generic computes the clipping coefficient and the inverse
// bias corrections once; one elementwise generic with three results updates
// the parameter and both moments.
// CHECK-LABEL: func.func @adamw
func.func @adamw(%p: tensor<4x8xf32>, %g: tensor<4x8xf32>, %m: tensor<4x8xf32>, %v: tensor<4x8xf32>, %ss: tensor<f32>, %lr: tensor<f32>, %t: tensor<i32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  // CHECK: %[[F:.*]]:3 = linalg.generic {{.*}} iterator_types = []} ins(%{{.*}}, %{{.*}} : tensor<f32>, tensor<i32>)
  // CHECK: math.sqrt
  // CHECK: arith.minimumf
  // CHECK: math.powf
  // CHECK: math.powf
  // CHECK: %[[U:.*]]:3 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[F]]#0, %[[F]]#1, %[[F]]#2, %{{.*}} : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>)
  // CHECK: math.sqrt
  // CHECK: arith.divf
  // CHECK: linalg.yield %{{.*}}, %{{.*}}, %{{.*}} : f32, f32, f32
  // CHECK: return %[[U]]#0, %[[U]]#1, %[[U]]#2
  %p2, %m2, %v2 = graph.adamw %p, %g, %m, %v norm %ss lr %lr step %t {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-6 : f64, weight_decay = 0.01 : f64, max_norm = 1.0 : f64, bias_correction = true} : tensor<4x8xf32>, tensor<f32>, tensor<i32>
  return %p2, %m2, %v2 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Argmax: one reduction carrying the maximum (from -inf) and its index
// (from 0); only a strictly larger element moves the index.
// CHECK-LABEL: func.func @argmax
func.func @argmax(%x: tensor<4x7xf32>) -> tensor<4xi32> {
  // CHECK: %[[MAX:.*]] = linalg.fill ins(%cst{{.*}} : f32) outs(%{{.*}} : tensor<4xf32>)
  // CHECK: %[[IDX:.*]] = linalg.fill ins(%c0_i32 : i32) outs(%{{.*}} : tensor<4xi32>)
  // CHECK: %[[R:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%{{.*}} : tensor<4x7xf32>) outs(%[[MAX]], %[[IDX]] : tensor<4xf32>, tensor<4xi32>)
  // CHECK: linalg.index 1
  // CHECK: arith.cmpf ogt
  // CHECK: arith.select
  // CHECK: arith.select
  // CHECK: return %[[R]]#1
  %0 = graph.argmax %x axis 1 : tensor<4x7xf32> -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

// Attention: one scf.forall over (batch and head, blocks of 80 query rows);
// in each, an scf.for over blocks of 40 keys carries the running row
// maximum, the running sum and the unnormalised output. No tensor of all
// the scores exists.
// CHECK-LABEL: func.func @attention
func.func @attention(%q: tensor<2x3x160x8xf32>, %v: tensor<2x3x160x4xf32>,
                     %bias: tensor<2x1x1x160xf32>) -> tensor<2x3x160x4xf32> {
  // CHECK: scf.forall (%[[BH:.*]], %[[Q0:.*]]) = (0, 0) to (6, 160) step (1, 80) shared_outs(%[[OUT:.*]] = %{{.*}}) -> (tensor<2x3x160x4xf32>)
  // CHECK-DAG: %[[H:.*]] = arith.remui %[[BH]], %c3
  // CHECK-DAG: %[[B:.*]] = arith.divui %[[BH]], %c3
  // CHECK: %[[QT:.*]] = tensor.extract_slice %arg0[%[[B]], %[[H]], %[[Q0]], 0] [1, 1, 80, 8] [1, 1, 1, 1] : tensor<2x3x160x8xf32> to tensor<80x8xf32>
  // CHECK: %[[R:.*]]:3 = scf.for %[[K0:.*]] = %{{.*}} to %{{.*}} step %c40{{.*}} iter_args(%[[M:.*]] = %{{.*}}, %[[L:.*]] = %{{.*}}, %[[ACC:.*]] = %{{.*}}) -> (tensor<80xf32>, tensor<80xf32>, tensor<80x4xf32>)
  // CHECK: tensor.extract_slice %arg0[%[[B]], %[[H]], %[[K0]], 0] [1, 1, 40, 8]
  // CHECK: linalg.transpose
  // CHECK: %[[S:.*]] = linalg.matmul ins(%[[QT]], %{{.*}} : tensor<80x8xf32>, tensor<8x40xf32>) outs(%{{.*}} : tensor<80x40xf32>)
  // CHECK: tensor.extract_slice %arg2[%[[B]], 0, 0, %[[K0]]] [1, 1, 1, 40]
  // CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} ins(%[[S]]
  // CHECK: arith.maximumf
  // CHECK: linalg.generic {{.*}} outs(%[[M]], %{{.*}} : tensor<80xf32>, tensor<80xf32>)
  // CHECK: math.exp
  // CHECK: math.exp
  // CHECK: outs(%[[L]] : tensor<80xf32>)
  // CHECK: outs(%[[ACC]] : tensor<80x4xf32>)
  // CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<80x40xf32>, tensor<40x4xf32>)
  // CHECK: scf.yield
  // CHECK: %[[TILE:.*]] = tensor.extract_slice %[[OUT]][%[[B]], %[[H]], %[[Q0]], 0] [1, 1, 80, 4]
  // CHECK: linalg.generic {{.*}} ins(%[[R]]#2, %[[R]]#1 : tensor<80x4xf32>, tensor<80xf32>) outs(%[[TILE]] : tensor<80x4xf32>)
  // CHECK: arith.divf
  // CHECK: scf.forall.in_parallel
  // CHECK-NEXT: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][%[[B]], %[[H]], %[[Q0]], 0] [1, 1, 80, 4]
  // CHECK-NOT: tensor<2x3x160x160xf32>
  %o = graph.attention %q, %q, %v, %bias scale 2.500000e-01 rate 0.0 : tensor<2x3x160x8xf32>, tensor<2x3x160x8xf32>, tensor<2x3x160x4xf32>, tensor<2x1x1x160xf32> -> tensor<2x3x160x4xf32>
  return %o : tensor<2x3x160x4xf32>
}

// -----

// A cross-entropy with its gradient: the labelled rows counted, then one
// scf.forall over blocks of 4 rows computing each row's maximum, sum of
// exponentials, loss and gradient, then the mean of the row losses.
// CHECK-LABEL: func.func @cross_entropy_with_grad
func.func @cross_entropy_with_grad(%logits: tensor<2x6x7xf32>, %labels: tensor<2x6xi32>, %g: tensor<f32>)
    -> (tensor<f32>, tensor<2x6x7xf32>) {
  // CHECK: %[[X:.*]] = tensor.collapse_shape %arg0 {{.*}} into tensor<84xf32>
  // CHECK: %[[X2:.*]] = tensor.expand_shape %[[X]] {{.*}} into tensor<12x7xf32>
  // CHECK: %[[COUNT:.*]] = linalg.generic {{.*}}iterator_types = ["reduction"]
  // CHECK: %[[R:.*]]:2 = scf.forall (%[[R0:.*]]) = (0) to (12) step (4) shared_outs(%[[LOSS:.*]] = %{{.*}}, %[[GRAD:.*]] = %{{.*}}) -> (tensor<12xf32>, tensor<12x7xf32>)
  // CHECK: %[[TILE:.*]] = tensor.extract_slice %[[X2]][%[[R0]], 0] [4, 7] [1, 1] : tensor<12x7xf32> to tensor<4x7xf32>
  // CHECK: arith.maximumf
  // CHECK: math.exp
  // CHECK: math.log
  // CHECK: linalg.generic {{.*}} ins(%[[TILE]], {{.*}}, %[[COUNT]], %arg2 : {{.*}}) outs(%{{.*}} : tensor<4x7xf32>)
  // CHECK: scf.forall.in_parallel
  // CHECK: tensor.parallel_insert_slice %{{.*}} into %[[LOSS]][%[[R0]]] [4] [1]
  // CHECK: tensor.parallel_insert_slice %{{.*}} into %[[GRAD]][%[[R0]], 0] [4, 7] [1, 1]
  // CHECK: %[[TOTAL:.*]] = linalg.generic {{.*}}iterator_types = ["reduction"]} ins(%[[R]]#0 : tensor<12xf32>)
  // CHECK: %[[MEAN:.*]] = linalg.generic {{.*}} ins(%[[TOTAL]], %[[COUNT]] : tensor<f32>, tensor<f32>)
  // CHECK: return %[[MEAN]],
  %l, %d = graph.cross_entropy_with_grad %logits, %labels, %g : tensor<2x6x7xf32>, tensor<2x6xi32>, tensor<f32>
  return %l, %d : tensor<f32>, tensor<2x6x7xf32>
}

// -----

// An embedding gradient: an scf.forall over 8 blocks of columns (workgroups),
// each zeroing its columns of the table in place and adding the gradient
// rows into them one position after another (ids may repeat), the id
// clamped to the table.
// CHECK-LABEL: func.func @embedding_grad
func.func @embedding_grad(%ids: tensor<4xi32>, %g: tensor<4x16xf32>) -> tensor<10x16xf32> {
  // CHECK: %[[R:.*]] = scf.forall (%[[C0:.*]]) = (0) to (16) step (2) shared_outs(%[[TABLE:.*]] = %{{.*}}) -> (tensor<10x16xf32>)
  // CHECK: %[[COLS:.*]] = tensor.extract_slice %[[TABLE]][0, %[[C0]]] [10, 2] [1, 1]
  // CHECK: %[[ZERO:.*]] = linalg.fill {{.*}} outs(%[[COLS]] : tensor<10x2xf32>)
  // CHECK: %[[SUMS:.*]] = scf.for %[[P:.*]] = {{.*}} iter_args(%[[ACC:.*]] = %[[ZERO]])
  // CHECK: arith.maxsi
  // CHECK: %[[ROW:.*]] = arith.minsi
  // CHECK: %[[CUR:.*]] = tensor.extract_slice %[[ACC]][%[[ROW]], 0] [1, 2] [1, 1]
  // CHECK: %[[UPD:.*]] = tensor.extract_slice %arg1[%[[P]], %[[C0]]] [1, 2] [1, 1]
  // CHECK: linalg.add ins(%[[CUR]], %[[UPD]] : {{.*}}) outs(%[[CUR]] : tensor<1x2xf32>)
  // CHECK: tensor.parallel_insert_slice %[[SUMS]] into %[[TABLE]][0, %[[C0]]] [10, 2] [1, 1]
  // CHECK: return %[[R]]
  %0 = graph.embedding_grad %ids, %g rows 10 : tensor<4xi32>, tensor<4x16xf32> -> tensor<10x16xf32>
  return %0 : tensor<10x16xf32>
}
