package validate

import "github.com/dpl-dev/dpl/definition/expr"

var exprFunctions = expr.Functions()
