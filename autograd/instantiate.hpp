// The one way this library instantiates its templates: for each scalar type it is built for.
//
//   #define AG_LOSSES(T) template Variable<T> mse(const Variable<T>&, const Variable<T>&);
//   AG_INSTANTIATE(AG_LOSSES)
//
// The templates' definitions live in .cpp files, so these lines are what makes them exist.
#pragma once

#define AG_INSTANTIATE(macro) macro(float) macro(double)
